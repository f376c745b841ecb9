"""Is someone in danger? Danger words in the languages we can vouch for.

``detect_urgency(text, language)`` flags a reply for immediate attention when it contains a
danger term: crushing, not breathing, injuries, weapons, fire, bleeding, unconsciousness,
drowning, being trapped, calls for help, explosions, lost children.

Design choices:

* **False positives over misses.** A liaison officer can dismiss a flag in seconds; a missed
  crush report cannot be undone. So the English terms are always checked whatever the
  detected language (people switch to English for "help" and "SOS"), the reply's own
  language is checked too, and when the language is unknown or has no list, every list is.
* **Negation is not understood.** "No one was injured", "there is no fire" are flagged. We
  tried no negation handling on purpose: "no one is helping, he is not breathing" must flag.
* **Obvious non-danger is excluded** where the word is the same: "ceasefire", "fireworks",
  "fire drill", "firefighters did well" (fire must be the word on its own, and not in a
  "fire drill/alarm test/works/display"), "feu d'artifice"/"cessez-le-feu", "fuegos
  artificiales"/"alto el fuego", "sztuczne ognie", "foc de artificii", "water gun"/"nerf gun",
  "shot" only as "shots fired"/"was shot" (not "great shot"), "crush" not in "crush on".
* **Coverage**: en, fr, es, de, pl, ro, uk, ar and fa are reasonably full. Tigrinya/Amharic
  ("ti"/"am", one list for both since detection cannot always tell them apart) has only a
  few words we are confident of ("help", "fire", "blood", "gun", "ambulance", "knife") and
  needs a native speaker's review.

``matched`` lists the reply's own words that triggered the flag, for the officer to see.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from engage.inbound.classify.text import compile_folded, fold_with_offsets

_MAX_CHARS = 10_000
_B = r"(?<!\w)"
_AR = r"(?<!\w)(?:و|ف|ب|ل|ال|وال|بال|لل)?"

# Each language is a list of regular expressions, matched case-insensitively against the folded
# text (accents and Arabic letter variants do not matter; write words normally).
TERMS: dict[str, list[str]] = {
    "*": [
        r"[🆘🚑🚨]",
        r"(?<!\w)(?:(?-i:SOS|S\.O\.S\.?)|mayday)(?!\w)",
        r"\b(?:call|called|calling|ring|rang|dial|dialled|dialed|appelez|llamen|llama|ruft|dzwońcie|sunați|викличте|اتصلوا ب?|زنگ بزنید ب?)\s*(?:the |le |al |la |na |la )?(?:999|112|911|15|17|18|061|997|998)\b",
    ],
    "en": [
        r"\b(?:can'?t|cannot|can not|couldn'?t|unable to|struggling to|hard to|trouble) breath(?:e|ing)?\b",
        r"\b(?:not|stopped) breathing\b",
        r"\b(?:suffocat\w*|choking)\b",
        r"\bcrush(?:ed|ing)?\b(?! on\b| it\b)|\bcrowd (?:crush|surge)\b|\bstampede\b|\bsurging\b|\bsquashed\b|\bcan'?t move\b|\bpushed against the (?:barrier|fence|gate)s?\b",
        r"\b(?:injur(?:ed|y|ies)|wounded|(?:is|are|got|badly|seriously|been|getting|very) hurt|broken (?:leg|arm|neck|bones?))\b",
        r"\b(?:knife|knives|knifed|machete|blade|stab(?:bed|bing)?)\b",
        r"(?<!water )(?<!nerf )(?<!glue )(?<!toy )\b(?:guns?|gunman|gunmen|gunfire|gunshots?|firearm|pistol|rifle)\b",
        r"\b(?:shots? fired|(?:been|was|were|got|is|being) shot|shooting|shooter)\b",
        r"\bfire\b(?!\s*(?:works?|drill|alarm test|display|pit|place)\b)|\b(?:on fire|ablaze|burning|flames|(?:thick|black) smoke|smoke (?:coming|everywhere|pouring))\b",
        r"\b(?:bleed(?:ing|s)?|bled|blood (?:everywhere|loss|all over)|losing blood)\b",
        r"\b(?:unconscious|unresponsive|passed out|fainted|collaps(?:ed|ing|e)|seizure|heart attack|overdos(?:e|ed|ing)|cardiac arrest)\b",
        r"\b(?:drown(?:ing|ed)?|in the water|swept away)\b",
        r"\b(?:trapped|stuck (?:under|inside|in (?:the|a) (?:lift|elevator|crowd|crush|water|river|building|car|toilets?|tunnel|fire))|pinned (?:down|against|under)|can'?t get out)\b",
        r"\b(?:help (?:us|me|him|her|them)|please help|someone help|somebody help|send help|need (?:an ambulance|help now|urgent help)|call (?:an )?ambulance|emergency(?! exits?\b))\b|(?<!the )(?<!your )(?<!for )(?<!all )(?<!any )\bhelp\s*!",
        r"\b(?:explosion|exploded|bomb|grenade|acid attack)\b|(?<!a )\bblast\b",
        r"\b(?:lost|missing) (?:child|kid|boy|girl|son|daughter|toddler|baby)\b|\bcan'?t find my (?:child|kid|son|daughter|baby|little)\b",
        r"\b(?:attacking|being attacked|kidnap(?:ped|ping)?|abducted|hostage|dying(?! to| for)|going to die|kill(?:ing)? (?:him|her|them|someone|people))\b",
        r"\b(?:falling|fell) from\b|\b(?:barrier|stand|stage|roof|scaffolding|wall) (?:collapsed|collapsing|gave way)\b",
    ],
    "fr": [
        r"(?:je n'arrive (?:pas|plus) à respirer|je ne peux (?:pas|plus) respirer|(?:peux|peut|arrive) plus respirer|ne respire (?:pas|plus)|on étouffe|j'étouffe|il étouffe|elle étouffe|étouff\w*)",
        r"\b(?:écras(?:é|ée|és|ées|ement)|bousculade|mouvement de foule)\b",
        r"\b(?:bless(?:é|ée|és|ées|ure|ures))\b",
        r"\b(?:couteau|couteaux|poignard\w*|arme blanche)\b",
        r"\b(?:arme à feu|armes|armé|pistolet|fusil|revolver|coups de feu|tirs|fusillade|tireur)\b",
        r"(?<!cessez-le-)\bfeu\b(?! d'artifice| rouge| vert| orange)|\b(?:incendie|en feu|flammes|fumée)\b",
        r"\b(?:saign\w*|hémorragie|du sang partout|perd du sang)\b",
        r"\b(?:inconscient\w*|évanoui\w*|s'est effondré\w*|malaise|crise cardiaque|convulsions?|overdose)\b",
        r"\b(?:noyade|se noie|se noyer|noyé)\b",
        r"\b(?:coincé(?:e|s|es)?|piégé(?:e|s|es)?|bloqué(?:e|s|es)? sous)\b",
        r"(?:au secours|à l'aide|aidez[- ](?:moi|nous)|appelez (?:une ambulance|les secours|les pompiers))",
        r"\b(?:explosion|bombe|attentat)\b",
        r"\b(?:enfant (?:perdu|disparu)|j'ai perdu mon (?:fils|enfant)|j'ai perdu ma fille)\b",
    ],
    "es": [
        r"\b(?:no (?:puedo|puede|podemos) respirar|no respira|me ahogo|se ahoga(?:n)?|asfixi\w*)\b",
        r"\b(?:aplastad[oa]s?|aplastamiento|avalancha|estampida)\b",
        r"\b(?:herid[oa]s?|lesionad[oa]s?)\b",
        r"\b(?:cuchillo|navaja|machete|apuñala\w*|acuchilla\w*)\b",
        r"\b(?:pistola|arma(?:s| de fuego)?|armad[oa]|disparos?|tiroteo|dispararon|balacera)\b",
        r"(?<!alto el )\bfuego\b(?!s? artificiales)|\b(?:incendio|en llamas|humo)\b",
        r"\b(?:sangr(?:a|an|ando|e|ado|ienta|iento)|hemorragia)\b",
        r"\b(?:inconsciente|desmayad[oa]|se desmayó|se desplomó|convulsi\w*|infarto|sobredosis)\b",
        r"\b(?:ahogando|se está ahogando|ahogad[oa])\b",
        r"\b(?:atrapad[oa]s?)\b",
        r"\b(?:socorro|auxilio|ayúdenme|ayúdennos|ayudadnos|ayuda por favor|llamen a una ambulancia)\b",
        r"\b(?:explosión|bomba|atentado)\b",
        r"\b(?:niñ[oa] perdid[oa]|he perdido a mi (?:hijo|hija))\b",
    ],
    "de": [
        r"\b(?:kann nicht atmen|keine luft|atmet nicht|erstick\w*)\b",
        r"\b(?:erdrückt|zerquetscht|gedränge|massenpanik)\b",
        r"\b(?:verletzt\w*|verwundet)\b",
        r"\b(?:messer|messerstich\w*|niedergestochen|erstochen)\b",
        r"\b(?:waffe|pistole|gewehr|schüsse|schießerei|geschossen)\b",
        r"\b(?:feuer(?!werk)|großbrand|brennt|flammen|rauch)\b",
        r"\b(?:blutet|blutung|blut)\b",
        r"\b(?:bewusstlos|ohnmächtig|zusammengebrochen|kollabiert|herzinfarkt|krampfanfall)\b",
        r"\b(?:ertrinkt|ertrinken|ertrunken)\b",
        r"\b(?:eingeklemmt|eingeschlossen|gefangen)\b",
        r"(?<!die )(?<!ihre )(?<!eure )(?<!ihrer )\bhilfe\b|\b(?:helft uns|helft mir|notarzt|krankenwagen)\b",
        r"\b(?:explosion|bombe|sprengsatz)\b",
        r"\b(?:kind vermisst|kind verloren)\b",
    ],
    "pl": [
        r"\b(?:nie (?:mogę|może|możemy) oddychać|nie oddycha|duszę się|dusi się|dusimy się)",
        r"\b(?:zmiażdż\w*|ścisk|tratowan\w*|stratowan\w*)",
        r"\b(?:rann[yaie]|rannych|poszkodowan\w*)\b",
        r"\b(?:nóż|noża|nożem|noże|maczet\w*|dźgnię\w*|pchnięt\w* nożem)",
        r"\b(?:broń|broni|pistolet\w*|strzelanin\w*|strzały|strzelają|strzelec)",
        r"\b(?:pożar\w*|ogień|ognia|płonie|pali się|dym)\b",
        r"\b(?:krwawi\w*|krew|krwotok)",
        r"\b(?:nieprzytomn\w*|zemdlał\w*|zasłabł\w*|stracił\w* przytomność|zawał|atak padaczki)",
        r"\b(?:tonie|topi się|utonął|utonęła)",
        r"\b(?:uwięzi\w*|przygniecion\w*|zablokowan\w* pod)",
        r"\b(?:pomocy|ratunku|na pomoc|wezwijcie karetkę|wezwijcie pogotowie|karetk[aęi])",
        r"\b(?:wybuch\w*|bomba|bomby|eksplozj\w*)",
        r"\b(?:zaginęł\w* dziecko|zgubiło się dziecko|zaginął syn|zaginęła córka)",
    ],
    "ro": [
        r"\b(?:nu (?:pot|poate|putem) (?:să )?respir\w*|nu respiră|mă sufoc|se sufocă|sufocă)",
        r"\b(?:strivit\w*|zdrobit\w*|îmbulzeală|busculadă)",
        r"\b(?:rănit\w*|răniți|accidentat\w*)",
        r"\b(?:cuțit\w*|înjunghiat\w*|macetă)",
        r"\b(?:armă|arme|pistol|împușcă\w*|focuri de armă|trage cu)",
        r"\bfoc\b(?! de artificii)|\b(?:incendiu|arde|flăcări|fum)\b",
        r"\b(?:sângerează|sânge|hemoragie)",
        r"\b(?:inconștient\w*|leșinat\w*|a leșinat|s-a prăbușit|infarct|convulsii)",
        r"\b(?:se îneacă|înecat\w*|se înecă)",
        r"\b(?:blocat\w* (?:sub|în)|prins\w* sub|captiv\w*)",
        r"\b(?:ajutor|ajutați-ne|ajutați-mă|salvați-ne|chemați (?:ambulanța|salvarea))",
        r"\b(?:explozie|bombă|bombe)",
        r"\b(?:copil pierdut|copil dispărut|mi-am pierdut copilul)",
    ],
    "uk": [
        _B + r"(?:не (?:можу|може|можемо) дихати|не дихає|задиха\w*|задуш\w*)",
        _B + r"(?:тиснява|розчавлен\w*|роздавлен\w*|тиснуть)",
        _B + r"(?:поранен\w*|травмован\w*|постраждал\w*)",
        _B + r"(?:ніж|ножем|ножа|ножове|ножов\w*|вдарив ножем)",
        _B + r"(?:зброя|зброєю|пістолет\w*|стрілянин\w*|постріл\w*|стріляють)",
        _B + r"(?:пожеж\w*|вогонь|горить|полум'я|дим)(?!\w)",
        _B + r"(?:кровотеч\w*|кров|стікає кров'ю)(?!\w)",
        _B + r"(?:без свідомості|непритомн\w*|знепритомні\w*|втратив свідомість|втратила свідомість|інфаркт|судоми)",
        _B + r"(?:тоне|тонуть|потопа\w*|потонув)",
        _B + r"(?:застрягл\w*|застряг|затиснут\w*|заблокован\w*)",
        _B + r"(?:допоможіть|рятуйте|на допомогу|викличте швидку|швидк(?:у|а) допомог\w*)",
        _B + r"(?:вибух\w*|бомба|бомби)",
        _B + r"(?:загубилась дитина|загубилася дитина|зникла дитина|загубився син|загубилась донька)",
    ],
    "ar": [
        _B + r"(?:لا (?:أستطيع|استطيع|يستطيع|نستطيع|أقدر|اقدر|يقدر|نقدر) (?:التنفس|أتنفس|اتنفس|يتنفس|نتنفس)|مش قادر (?:أتنفس|اتنفس)|ما (?:بقدر|بقدرش|اقدر) (?:أتنفس|اتنفس)|لا يتنفس|ما يتنفس)",
        _AR + r"(?:اختناق|مختنق|يختنق|أختنق|نختنق)",
        _AR + r"(?:تدافع|سحق|انسحق|محشورين|مدهوس)",
        _AR + r"(?:مصاب|مصابين|إصابة|إصابات|جريح|جرحى|مجروح)",
        _AR + r"(?:سكين|سكاكين|طعن|طعنه|مطعون|ساطور)",
        _AR + r"(?:مسدس|سلاح|أسلحة|بندقية|إطلاق نار|إطلاق النار|رصاص|مسلح)",
        _AR + r"(?:حريق|حرائق|نار|النيران|دخان)(?!\w)",
        _AR + r"(?:ينزف|نزيف|تنزف|دم|الدماء)(?!\w)",
        _AR + r"(?:فاقد الوعي|فقد الوعي|فقدت الوعي|مغمى عليه|مغمى عليها|أغمي عليه|انهار|سكتة قلبية|نوبة قلبية)",
        _AR + r"(?:يغرق|غرق|غريق|تغرق)",
        _AR + r"(?:محاصر|محاصرين|عالق|عالقين|محبوس|محبوسين)",
        _AR + r"(?:النجدة|ساعدوني|ساعدونا|الحقوني|الحقونا|أنقذوني|أنقذونا|إسعاف)",
        _AR + r"(?:انفجار|قنبلة|تفجير)",
        _B + r"(?:طفل مفقود|طفل ضائع|طفلة مفقودة|ضاع ابني|ضاعت بنتي|ضاع طفلي)",
    ],
    "fa": [
        _B + r"(?:نمی ?توان(?:م|د|یم) نفس|نمی ?تون(?:م|ه) نفس|نفس نمی ?کش|نفسم بالا نمیاد|خفه (?:شد|میش))",
        _B + r"(?:له شد|زیر دست و پا|ازدحام)",
        _B + r"(?:زخمی|مجروح|آسیب دید)",
        _B + r"(?:چاقو|قمه|ضربه چاقو)",
        _B + r"(?:اسلحه|تفنگ|کلت|تیراندازی|شلیک)",
        _B + r"(?:آتش(?! ?بس)|آتیش|دود)",
        _B + r"(?:خونریزی|خون ?ریزی|خون)(?!\w)",
        _B + r"(?:بیهوش|از هوش رفت|سکته)",
        _B + r"(?:غرق)",
        _B + r"(?:گیر افتاد|گیر کرد|محاصره)",
        _B + r"(?:کمک ?(?:کنید|کن)|کمکم کنید|به دادم برسید|نجاتم|آمبولانس|اورژانس)",
        _B + r"(?:انفجار|بمب)",
        _B + r"(?:بچه گم شد|بچه ام گم|کودک گمشده)",
    ],
    "ti": [
        # Tigrinya: ሓገዝ help, ሓዊ fire; Amharic: እርዳታ help, ድረሱልን come to our aid, እሳት fire;
        # both: ደም blood, ሽጉጥ pistol, ካራ/ቢላዋ knife, ኣምቡላንስ/አምቡላንስ ambulance.
        r"(?:ሓገዝ|እርዳታ|ድረሱልን|እሳት|ሽጉጥ|ቢላዋ|ኣምቡላንስ|አምቡላንስ)",
        _B + r"(?:ሓዊ|ደም|ካራ)(?!\w)",
    ],
}
TERMS["am"] = TERMS["ti"]


@dataclass(frozen=True)
class UrgencyResult:
    urgent: bool
    matched: list[str] = field(default_factory=list)


@lru_cache(maxsize=64)
def _patterns(language: str) -> tuple[re.Pattern[str], ...]:
    keys = ["*", "en"]
    if language in TERMS:
        keys.append(language)
    else:
        keys.extend(key for key in TERMS if key not in {"*", "en", "am"})
    seen: list[str] = []
    for key in keys:
        for pattern in TERMS[key]:
            if pattern not in seen:
                seen.append(pattern)
    return tuple(compile_folded(pattern) for pattern in seen)


def detect_urgency(text: str, language: str) -> UrgencyResult:
    """Whether ``text`` (in ``language``, ISO 639-1 or "unknown") reports someone in danger."""
    folded = fold_with_offsets((text or "")[:_MAX_CHARS])
    if not folded.text.strip():
        return UrgencyResult(urgent=False, matched=[])
    matched: list[str] = []
    for pattern in _patterns(language):
        for hit in folded.find_all(pattern):
            hit = hit.strip()
            if hit and hit not in matched:
                matched.append(hit)
    return UrgencyResult(urgent=bool(matched), matched=matched)
