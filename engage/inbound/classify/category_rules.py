"""The default keyword rules for sorting replies into categories, one list per language.

This module is data. Each :class:`Rule` says "if this regular expression matches, add this
weight to that category". Admins can replace or extend the rules by passing their own
mapping to :func:`engage.inbound.classify.category.classify_category` (``rules=``); the key ``"*"``
holds rules for every language (punctuation, emoji, links).

Patterns are matched case-insensitively against the *folded* reply (see
:mod:`engage.inbound.classify.text`): accents and Arabic letter variants do not matter, so write words
in their normal spelling. ``\\b`` is fine for Latin and Cyrillic; for Arabic and Persian use
``(?<!\\w)`` and leave the end open, because prefixes (و ف ب ل ال) and suffixes attach to words.

Coverage, honestly:

* **en**: all nine categories, the fullest list.
* **fr, es, ar**: all nine categories; reviewed against common usage, not a corpus.
* **pl, ro, uk, de, fa**: all nine, thinner; question/emergency/praise/complaint are the most
  reliable, abuse/spam lists are short.
* **cy, it, pt, tr, ru, so, ur, ps, ckb, ti / am**: question, praise, complaint, rumour,
  emergency and (except ti) crime cues only; drafted for issue 15, not reviewed by native
  speakers. bench/classify.py measures every language on tests/engage/inbound/classify/eval_set.toml.

Weights: 1.0 is an ordinary cue, 1.5 a strong one, 2-3 nearly decisive. Words that change
meaning with context ("help" in "thanks for your help") get less.
"""

from __future__ import annotations

from dataclasses import dataclass

from engage.inbound.classify.text import compile_folded

CATEGORIES: tuple[str, ...] = (
    "question",
    "information",
    "complaint",
    "praise",
    "rumour",
    "emergency",
    "crime_report",
    "abuse",
    "spam",
)


@dataclass(frozen=True)
class Rule:
    """``pattern`` (a regular expression) matching means ``weight`` points for ``category``."""

    category: str
    pattern: str
    weight: float = 1.0

    def __post_init__(self) -> None:
        if self.category not in CATEGORIES:
            raise ValueError(f"Unknown category {self.category!r}; expected one of {', '.join(CATEGORIES)}.")
        if not self.weight > 0:
            raise ValueError(f"Rule weight must be positive, got {self.weight!r}.")
        compile_folded(self.pattern)  # raises re.error now, not on the first reply


_B = r"(?<!\w)"  # word start that also works where \b is awkward
_E = r"(?!\w)"  # word end
_AR = r"(?<!\w)(?:و|ف|ب|ل|ال|وال|بال|لل)?"  # Arabic: optional attached conjunction/article

ANY_LANGUAGE: list[Rule] = [
    Rule("question", r"[?？؟¿፧]", 1.0),
    Rule("praise", r"[👍👏💙🙌]|❤", 1.0),
    Rule("emergency", r"[🆘🚑🚨]", 1.5),
    Rule("emergency", r"(?<!\d)(?:999|112|911)(?!\d)", 0.6),
    Rule("spam", r"(?:bit\.ly|tinyurl\.com|goo\.gl|cutt\.ly|shorturl\.at|wa\.me|t\.co)/\S+", 1.5),
    Rule("spam", r"https?://\S+", 0.5),
    Rule("abuse", r"(?<!\w)(?:acab|a\.c\.a\.b|1312)(?!\w)", 2.0),
]

ENGLISH: list[Rule] = [
    # question
    Rule("question", r"^\s*(?:where|when|what|which|who|why|how|is|are|can|could|will|would|should|does|do|did)\b", 0.8),
    Rule("question", r"\b(?:does anyone know|anyone know|can (?:i|we|you)|could you|is there|are there|what time|how (?:do|can|long|much|many|to)|where (?:is|are|can|do|should)|when (?:is|are|will|does|do)|will (?:the|there)|please (?:advise|confirm|let (?:me|us) know))\b", 1.0),
    # information (a tip)
    Rule("information", r"\b(?:i (?:just )?(?:saw|seen|noticed|spotted|witnessed)|we (?:just )?(?:saw|noticed|spotted))\b", 1.2),
    Rule("information", r"\b(?:fyi|heads up|just so you know|for your information|(?:just )?to let you know|tip[- ]?off)\b", 1.5),
    Rule("information", r"\bsuspicious\b", 1.5),
    Rule("information", r"\b(?:last seen|was wearing|number plate|licen[cs]e plate|registration (?:number|plate)|reg number)\b", 1.0),
    Rule("information", r"\bthere (?:is|are|'s) (?:a|an|some|two|three|several|lots of|loads of)\b", 0.6),
    # complaint
    Rule("complaint", r"\bcomplain(?:t|ts|ed|ing)?\b", 2.0),
    Rule("complaint", r"\b(?:disgrace(?:ful)?|disgust(?:ing|ed)|unacceptable|appalling|outrageous|shameful|shame on you|pathetic|useless|incompetent|ridiculous|terrible|awful|horrible|worst|rude|heavy[- ]handed|not good enough|a joke)\b", 1.5),
    Rule("complaint", r"\b(?:no ?one|nobody) (?:came|answered|helped|responded|was there|replied)\b", 1.5),
    Rule("complaint", r"\bwaited (?:for )?(?:hours|ages|over an hour|\d+ (?:minutes|mins|hours))\b", 1.5),
    Rule("complaint", r"\bthanks for nothing\b", 3.0),
    Rule("complaint", r"\b(?:not happy|unhappy|disappointed|fed up|sick of|angry|furious|treated (?:us|me) like)\b", 1.2),
    Rule("complaint", r"\bwhy (?:did|didn't|don't|do|are|is|were|was|won't) (?:no ?one|nobody|you|the police|the officers|your officers|they)\b", 1.0),
    # praise
    Rule("praise", r"\b(?:thank(?:s| you| u)|thanx|thx|cheers|many thanks)\b", 1.5),
    Rule("praise", r"\b(?:well done|great (?:job|work)|good (?:job|work)|brilliant|amazing|fantastic|excellent|superb|outstanding|wonderful|kudos|hats off|respect to|appreciated?|grateful|(?:so|very|really) (?:helpful|kind)|kindness|professional(?:ism)?|keep up the good work|lovely|heroes)\b", 1.2),
    # rumour (a report of misinformation)
    Rule("rumour", r"\b(?:rumou?rs?|hoax|fake news|misinformation|disinformation|false (?:claims?|information|reports?))\b", 2.5),
    Rule("rumour", r"\b(?:fake (?:video|photo|picture|post|account|page|tweet|message|image)s?|(?:doctored|edited|old) (?:video|photo|footage))\b", 2.0),
    Rule("rumour", r"\bis (?:it|this|that) (?:true|real|correct|legit|genuine)\b|\bis (?:this|that) (?:a )?fake\b", 2.0),
    Rule("rumour", r"\b(?:going (?:a)?round|circulating|spreading|shared) (?:on |online|around)?(?:whatsapp|facebook|tiktok|twitter|telegram|instagram|social media|online|x\b)", 2.0),
    Rule("rumour", r"\b(?:(?:people|everyone|they) (?:are|is) saying|i (?:heard|read) (?:that|online|on)|apparently|someone (?:said|posted|claims?))\b", 1.0),
    # emergency
    Rule("emergency", r"\b(?:emergency|please help|help (?:us|me|him|her)|sos|in danger|send (?:help|someone|police|officers|an ambulance)|need (?:police|an ambulance|help|paramedics))\b|(?<!the )(?<!your )(?<!for )(?<!all )(?<!any )\bhelp\s*!", 1.5),
    Rule("emergency", r"\b(?:urgent(?:ly)?|asap|immediately|ambulance|paramedics?|dangerous)\b", 1.0),
    Rule("emergency", r"\b(?:right now|hurry)\b", 0.5),
    # crime_report
    Rule("crime_report", r"\b(?:stol(?:e|en)|theft|thie(?:f|ves)|robb(?:ed|ery|ers?)|mugg(?:ed|ing)|pickpocket(?:ed|s|ing)?|burglar(?:y|ies|s)?|broke(?:n)? into|break[- ]in|assault(?:ed)?|attacked|beaten up|beat (?:him|her|me|us|them) up|groped|sexual(?:ly)? assault(?:ed)?|spiked|spiking)\b", 1.5),
    Rule("crime_report", r"\b(?:steal(?:ing|s)?|shoplift(?:ing|er|ed)?|vandal(?:ism|ised|ized|s)?|graffiti|punched|harass(?:ed|ing|ment)?|dealing drugs|drug deal(?:ing|ers?)?|selling drugs|fraud|scam(?:med)?|threaten(?:ed|ing)|hit and run|drunk driv(?:er|ing)|anti[- ]social|criminal damage|smashed (?:my|the|a) (?:car|window)|ticket touts?|counterfeit|fake tickets?)\b", 1.0),
    Rule("crime_report", r"\b(?:report (?:a|an) (?:crime|theft|assault|incident)|(?:want|like) to report)\b", 1.5),
    Rule("crime_report", r"\b(?:brawl|(?:a )?fight(?:ing|s)? (?:outside|near|at|in|going on|broke out|broken out))\b", 1.0),
    # abuse
    Rule("abuse", r"\b(?:bastards?|wankers?|pigs|filth|scum(?:bags?)?|cunts?|twats?|idiots|morons|clowns|fascists?|nazis?|go to hell|stfu|shut up|fuck (?:you|off|the police|the cops))\b", 1.5),
    Rule("abuse", r"\byou (?:fucking |bloody |useless )?(?:pigs|idiots|morons|clowns|scum|bastards|wankers|twats|cunts|idiot|moron|clown)\b", 2.0),
    Rule("abuse", r"\b(?:f+u+c+k+(?:ing|ers?|ed)?|fck|f\*+k|shit(?:e|ty)?|bollocks|crap)\b", 1.0),
    Rule("abuse", r"\b(?:i (?:will|'ll|'m going to|am going to) (?:kill|hurt|find|get|stab|shoot) (?:you|u|ya)|kill yoursel(?:f|ves)|kys|hope (?:you|u) (?:all )?die|you (?:should|deserve to) die)\b", 3.0),
    # spam
    Rule("spam", r"\b(?:crypto(?:currency)?|bitcoin|btc|ethereum|forex|nft|invest(?:ment)? (?:opportunity|plan)|earn \$?\d+|make money|passive income|giveaway|free (?:followers|likes|money|iphone|gift)|promo(?:tion)? code|discount code|buy followers|check out my|follow me|follow back|subscribe to my|dm me|whatsapp me|click (?:here|the link|link in bio)|link in (?:my )?bio|casino|betting tips|onlyfans|viagra|loan offer)\b", 2.0),
]

FRENCH: list[Rule] = [
    Rule("question", r"^\s*(?:où|quand|comment|pourquoi|quel(?:le)?s?|qui|combien|est-ce|peut-on|puis-je|pouvez-vous|y a-t-il|faut-il)\b", 0.8),
    Rule("question", r"(?:est-ce que?|est-ce qu'|savez-vous|quelqu'un sait|y a-t-il|à quelle heure|où (?:est|sont|se trouve|peut-on|puis-je)|comment (?:faire|aller|on)|pouvez-vous)", 1.0),
    Rule("information", r"\b(?:j'ai (?:vu|remarqué|aperçu)|on a vu|nous avons vu|pour info(?:rmation)?|je vous signale|je signale|je vous informe)", 1.2),
    Rule("information", r"\b(?:suspect(?:e|s|es)?|plaque d'immatriculation|immatriculation|il y a (?:un|une|des|plusieurs))\b", 1.0),
    Rule("complaint", r"\b(?:me plaindre|réclamation|inadmissible|inacceptable|honte|honteux|scandale|scandaleux|lamentable|n'importe quoi|pas normal|déçu(?:e|s|es)?|incompétent(?:e|s|es)?|c'est nul|vous êtes nuls)\b", 1.5),
    Rule("complaint", r"\b(?:personne n'(?:est venu|a répondu|a aidé)|personne ne (?:répond|vient)|(?:on a|nous avons|j'ai) attendu (?:des heures|longtemps|\d+))", 1.5),
    Rule("praise", r"\b(?:merci|bravo|bon travail|beau travail|excellent|génial|félicitations|chapeau|formidable|reconnaissant(?:e|s)?|très gentil(?:le)?s?|professionnel(?:le)?s?|au top)\b", 1.5),
    Rule("rumour", r"\b(?:rumeurs?|fausses? (?:info(?:rmation)?s?|nouvelles?)|fake news|intox|canular|désinformation|c'est un fake|fausse vidéo|fausse photo)\b", 2.5),
    Rule("rumour", r"(?:c'est vrai que|est-ce vrai|est-ce que c'est vrai|c'est vrai \?|circule (?:sur|en ligne)|tourne sur (?:whatsapp|facebook|tiktok|les réseaux))", 2.0),
    Rule("rumour", r"\b(?:il paraît que|on dit que|paraît-il)\b", 1.0),
    Rule("emergency", r"(?:au secours|à l'aide|aidez[- ](?:moi|nous)|urgence|en danger|appelez (?:une ambulance|les secours|le 1[5578]|le 112)|envoyez (?:quelqu'un|de l'aide|la police|les secours))", 1.5),
    Rule("emergency", r"\b(?:urgent|vite|danger|ambulance|secours|pompiers)\b", 1.0),
    Rule("crime_report", r"\b(?:volé(?:e|s|es)?|voleurs?|vol (?:de|à l'arraché)|cambriol(?:é|ée|age|eurs?)|agress(?:é|ée|és|ion|eur|eurs)|pickpockets?|racket|porter plainte|déposer plainte|attouchements?)\b", 1.5),
    Rule("crime_report", r"\b(?:arnaqu(?:e|é|ée|eurs?)|harcel(?:é|ée|ement)|dealers?|trafic de drogue|vandalis(?:me|é)|dégradations?|menac(?:é|ée|es)|frapp(?:é|ée))\b", 1.0),
    Rule("abuse", r"\b(?:connards?|connasses?|salauds?|enculés?|fils de pute|ta gueule|nique|ordures?|crétins?|abrutis?|flics de merde)\b", 1.5),
    Rule("abuse", r"\b(?:putain|merde)\b", 1.0),
    Rule("spam", r"\b(?:gagnez|gagner de l'argent|argent facile|crypto(?:monnaies?)?|bitcoin|cliquez ici|lien en bio|code promo|abonnez-vous|investissement)\b", 2.0),
]

SPANISH: list[Rule] = [
    Rule("question", r"^\s*(?:¿\s*)?(?:dónde|cuándo|cómo|qué|por qué|cuál(?:es)?|quién(?:es)?|cuánto|cuántos|hay|se puede|puedo|pueden)\b", 0.6),
    Rule("question", r"\b(?:alguien sabe|saben si|se puede|hay algún|hay alguna|a qué hora|dónde (?:está|están|puedo|hay|queda)|cómo (?:llego|puedo|se))\b", 1.0),
    Rule("information", r"\b(?:he visto|vi (?:a|un|una|dos)|acabo de ver|he notado|hemos visto|para su información|les informo|aviso de que)\b", 1.2),
    Rule("information", r"\b(?:sospechos[oa]s?|matrícula)\b", 1.2),
    Rule("complaint", r"\b(?:queja|quejarme|reclamación|vergüenza|vergonzoso|inaceptable|indignante|pésimo|lamentable|incompetentes?|una burla|fatal)\b", 1.5),
    Rule("complaint", r"\b(?:nadie (?:vino|contestó|ayudó|respondió)|esperamos (?:horas|mucho)|esperé (?:horas|mucho))\b", 1.5),
    Rule("praise", r"\b(?:gracias|buen trabajo|gran trabajo|excelente|felicidades|enhorabuena|bravo|genial|estupendo|muy amables?|profesionales)\b", 1.5),
    Rule("rumour", r"\b(?:rumor(?:es)?|bulos?|noticias? falsas?|fake news|desinformación|vídeo falso|foto falsa)\b", 2.5),
    Rule("rumour", r"\b(?:es verdad que|es cierto que|es verdad|es cierto|circula (?:en|por)|está circulando)\b", 2.0),
    Rule("rumour", r"\bdicen que\b", 1.0),
    Rule("emergency", r"\b(?:socorro|auxilio|ayúdenme|ayúdennos|ayudadnos|ayudenme|emergencia|en peligro|llamen a (?:una ambulancia|la policía|emergencias)|manden ayuda|envíen ayuda)\b", 1.5),
    Rule("emergency", r"\b(?:urgente|rápido|peligro|ambulancia)\b", 1.0),
    Rule("emergency", r"\bayuda\b", 0.8),
    Rule("crime_report", r"\b(?:robo|robaron|robado|robada|ladrón|ladrones|carterist[ao]s?|hurto|asalto|asaltaron|agresión|agredid[oa]s?|denuncia|denunciar)\b", 1.5),
    Rule("crime_report", r"\b(?:acoso|acosando|acosad[oa]|vandalismo|estafa|estafaron|amenaza(?:ron|s|do)?|drogas|camello)\b", 1.0),
    Rule("abuse", r"\b(?:cabrones?|hijos? de puta|hdp|putos?|pendejos?|idiotas?|imbéciles?|cerdos|maderos|pacos)\b", 1.5),
    Rule("abuse", r"\bmierda\b", 1.0),
    Rule("spam", r"\b(?:gana dinero|dinero fácil|criptomonedas?|bitcoin|haz clic|link en bio|código promocional|inversión segura)\b", 2.0),
    Rule("spam", r"\bgratis\b", 1.0),
]

GERMAN: list[Rule] = [
    Rule("question", r"^\s*(?:wo|wann|wie|warum|wieso|weshalb|was|welche[rsmn]?|wer|gibt es|kann man|können|darf)\b", 0.8),
    Rule("question", r"\b(?:weiß jemand|gibt es|kann man|wo (?:ist|sind|kann)|um wie viel uhr)\b", 1.0),
    Rule("information", r"\b(?:ich habe (?:gerade )?gesehen|ich sah|mir ist aufgefallen|zur info|verdächtig\w*|kennzeichen)\b", 1.2),
    Rule("complaint", r"\b(?:beschwerde|beschweren|schande|unverschämt|inakzeptabel|skandal\w*|schrecklich|niemand kam|keiner kam|stundenlang gewartet|enttäuscht|unfähig)\b", 1.5),
    Rule("praise", r"\b(?:danke|dankeschön|vielen dank|toll|klasse|gute arbeit|großartig|hervorragend|respekt|professionell|freundlich)\b", 1.5),
    Rule("rumour", r"\b(?:gerücht\w*|falschmeldung\w*|fake news|desinformation|stimmt es|ist es wahr)\b", 2.0),
    Rule("rumour", r"\b(?:angeblich|es heißt)\b", 1.0),
    Rule("emergency", r"\b(?:helft uns|helfen sie|notfall|notruf|dringend|gefahr|krankenwagen|rettungswagen|ruft (?:die polizei|einen krankenwagen))\b", 1.5),
    Rule("emergency", r"\b(?:hilfe|schnell)\b", 0.8),
    Rule("crime_report", r"\b(?:gestohlen|geklaut|diebstahl|dieb\w*|taschendieb\w*|raub|überfall\w*|angegriffen|geschlagen|belästig\w*|anzeige erstatten)\b", 1.5),
    Rule("crime_report", r"\b(?:drogen|dealer|betrug|bedroht|sachbeschädigung)\b", 1.0),
    Rule("abuse", r"\b(?:arschloch|arschlöcher|wichser|scheiß\w*|bullenschweine|hurensohn|idioten)\b", 1.5),
    Rule("spam", r"\b(?:gewinnspiel|kostenlos|krypto\w*|bitcoin|hier klicken|geld verdienen|rabattcode)\b", 1.5),
]

POLISH: list[Rule] = [
    Rule("question", r"^\s*(?:gdzie|kiedy|jak|dlaczego|czemu|czy|co|który|która|które|ile|kto)\b", 0.8),
    Rule("question", r"\b(?:czy (?:ktoś|można|jest|są|będzie|wiecie)|gdzie (?:jest|są|można)|o której|jak (?:dojść|dojechać|można))", 1.0),
    Rule("information", r"\b(?:widziałem|widziałam|widzieliśmy|zauważyłem|zauważyłam|informuję|dla informacji|podejrzan\w*|numer rejestracyjny|tablic\w* rejestracyjn\w*)", 1.2),
    Rule("complaint", r"\b(?:skarg\w*|zażalenie|wstyd|skandal\w*|żenujące|żenada|niedopuszczaln\w*|beznadziej\w*|niekompetentn\w*|okropn\w*|fataln\w*)", 1.5),
    Rule("complaint", r"\b(?:nikt nie (?:przyjechał|przyszedł|odbiera|pomógł|odpowiada)|czekaliśmy (?:godzin\w*|długo))", 1.5),
    Rule("praise", r"\b(?:dziękuj\w*|dzięki|brawo|świetn\w*|wspaniał\w*|dobra robota|gratulacje|szacun|profesjonaln\w*|uprzejm\w*)", 1.5),
    Rule("rumour", r"\b(?:plotk\w*|fake news\w*|fałszyw\w* (?:informacj\w*|wiadomoś\w*)|dezinformacj\w*|czy to prawda|czy prawdą jest|krąży (?:w|po))", 2.0),
    Rule("rumour", r"\b(?:podobno|mówią, że|mówią że)", 1.0),
    Rule("emergency", r"\b(?:pomocy|ratunku|na pomoc|pilne|pilnie|niebezpiecz\w*|wezwijcie (?:karetkę|pogotowie|policję)|dzwońcie)", 1.5),
    Rule("emergency", r"\b(?:szybko|karetk\w*|pogotowi\w*)", 0.8),
    Rule("crime_report", r"\b(?:ukradł\w*|ukradzion\w*|kradzież\w*|kradnie|złodziej\w*|okradzion\w*|okradli|rozbój|napad\w*|pobit\w*|pobili|pobicie|pobił\w*|napaść|zgłosić przestępstwo)", 1.5),
    Rule("crime_report", r"\b(?:molest\w*|narkotyk\w*|diler\w*|oszust\w*|wandal\w*|grozi\w*|groźb\w*)", 1.0),
    Rule("abuse", r"\b(?:kurw\w*|chuj\w*|jebać|jeban\w*|pierdol\w*|psiarnia|idioci|debil\w*|frajer\w*|hwdp)", 1.5),
    Rule("abuse", r"\bpsy\b", 1.0),
    Rule("spam", r"\b(?:zarób|zarabiaj|darmow\w*|kryptowalut\w*|bitcoin|kliknij (?:tutaj|link)|kod promocyjny|inwestycj\w*)", 1.5),
]

ROMANIAN: list[Rule] = [
    Rule("question", r"^\s*(?:unde|când|cum|de ce|ce|care|cine|cât|câți|este|există|pot|putem)\b", 0.8),
    Rule("question", r"\b(?:știe cineva|se poate|la ce oră|unde (?:este|e|sunt|pot)|cum (?:ajung|pot))\b", 1.0),
    Rule("information", r"\b(?:am văzut|am observat|vă informez|suspect\w*|număr de înmatriculare)\b", 1.2),
    Rule("complaint", r"\b(?:plângere|reclamație|rușine|inacceptabil\w*|jenant|bătaie de joc|am așteptat|incompetenț\w*|incompetenți|dezamăgit\w*|groaznic\w*)\b", 1.5),
    Rule("complaint", r"\bnimeni nu (?:a venit|răspunde|ne-a ajutat|m-a ajutat)\b", 1.5),
    Rule("praise", r"\b(?:mulțumesc|mulțumim|mersi|bravo|felicitări|excelent\w*|minunat\w*|foarte amabil\w*|profesioniști|respect)\b", 1.5),
    Rule("rumour", r"\b(?:zvon\w*|știri false|fake news|dezinformare|e adevărat că|este adevărat|circulă pe)\b", 2.0),
    Rule("rumour", r"\bse zice că\b", 1.0),
    Rule("emergency", r"\b(?:ajutor|ajutați-ne|ajutați-mă|salvați-ne|urgent|urgență|pericol|chemați (?:ambulanța|salvarea|poliția)|sunați la 112)\b", 1.5),
    Rule("emergency", r"\b(?:repede|ambulanț\w*|salvarea)\b", 0.8),
    Rule("crime_report", r"\b(?:furat\w*|a furat|mi-a furat|furt|hoț\w*|jefuit\w*|jaf|tâlhărie|agresat\w*|agresiune|bătut\w*|plângere penală)\b", 1.5),
    Rule("crime_report", r"\b(?:hărțui\w*|droguri|înșelătorie|țeapă|vandal\w*|amenința\w*)\b", 1.0),
    Rule("abuse", r"\b(?:pula|muie|futu\w*|dracu|idioți|proști|nenorociți|jigodii|gunoaie)\b", 1.5),
    Rule("spam", r"\b(?:câștigă|bani ușor|gratuit|criptomonede|bitcoin|click aici|cod promoțional|investiție)\b", 1.5),
]

UKRAINIAN: list[Rule] = [
    Rule("question", r"^\s*(?:де|коли|як|чому|навіщо|що|який|яка|яке|які|скільки|хто|чи)" + _E, 0.8),
    Rule("question", _B + r"(?:чи (?:можна|є|буде|знає)|хтось знає|де (?:знаходиться|можна|є)|о котрій|як (?:дістатися|можна|пройти))", 1.0),
    Rule("information", _B + r"(?:я бачив|я бачила|бачив|бачила|помітив|помітила|повідомляю|для інформації|підозріл\w*|номер (?:авто|машини)|номерний знак)", 1.2),
    Rule("complaint", _B + r"(?:скарг\w*|ганьба|соромно|неприпустим\w*|жахлив\w*|обурлив\w*|некомпетентн\w*|розчарован\w*)", 1.5),
    Rule("complaint", _B + r"(?:ніхто не (?:приїхав|прийшов|відповідає|допоміг)|чекали (?:годин\w*|довго))", 1.5),
    Rule("praise", _B + r"(?:дякую|дякуємо|спасибі|молодці|чудов\w*|відмінн\w*|вдячн\w*|професійн\w*|ввічлив\w*|так тримати)", 1.5),
    Rule("rumour", _B + r"(?:чутк\w*|фейк\w*|неправдив\w*|дезінформаці\w*|це правда|чи правда|ходить (?:в|у|по) (?:мережі|інтернеті|телеграмі|вайбері))", 2.0),
    Rule("rumour", _B + r"(?:кажуть,? що)", 1.0),
    Rule("emergency", _B + r"(?:допоможіть|рятуйте|на допомогу|терміново|негайно|небезпек\w*|викличте (?:швидку|поліцію)|швидк(?:у|а) допомог\w*)", 1.5),
    Rule("emergency", _B + r"(?:швидше|поспішіть)", 0.8),
    Rule("crime_report", _B + r"(?:вкра(?:в|ла|ли|дено|дений|дена|дені)|укра(?:в|ла|ли)|крадіжк\w*|злоді\w*|пограбува\w*|пограбуван\w*|напад\w*|напали|побили|побиття)", 1.5),
    Rule("crime_report", _B + r"(?:домага\w*|наркотик\w*|шахра\w*|погрожу\w*|погрози)", 1.0),
    Rule("abuse", _B + r"(?:сука|суки|суко|бля\w*|хуй\w*|підар\w*|ідіот\w*|придурк\w*|покидьк\w*)", 1.5),
    Rule("spam", _B + r"(?:заробіт\w*|безкоштовн\w*|криптовалют\w*|біткоїн\w*|переходьте за посиланням|інвестиці\w*)", 1.5),
]

ARABIC: list[Rule] = [
    Rule("question", _B + r"(?:هل|أين|وين|فين|متى|امتى|كيف|كيفاش|شو|ايش|إيش|ماذا|لماذا|ليش|ليه|كم|مين)" + _E, 0.8),
    Rule("information", _AR + r"(?:رأيت|شفت|شاهدت|لاحظت|للعلم|للمعلومية|للإفادة|مشبوه|مشتبه|رقم اللوحة|لوحة السيارة)", 1.2),
    Rule("information", _B + r"(?:يوجد|هناك|فيه) (?:شخص|رجل|سيارة|مجموعة|شباب|ناس)", 1.0),
    Rule("complaint", _AR + r"(?:شكوى|أشتكي|اشتكي|سيئ|سيء|غير مقبول|فضيحة|مهزلة|إهمال|عار عليكم|تأخرتم|معاملة سيئة|ظلم|فاشلين)", 1.5),
    Rule("complaint", _B + r"(?:لم يأت أحد|ما حدا|ما في حدا|لا أحد (?:جاء|رد|ساعد)|انتظرنا (?:ساعات|كثيرا))", 1.5),
    Rule("praise", _AR + r"(?:شكرا|مشكورين|مشكور|أحسنتم|بارك الله|جزاكم الله|يعطيكم العافية|ممتاز|رائع|كل الاحترام|كل التقدير|تحية|شاكرين)", 1.5),
    Rule("rumour", _AR + r"(?:إشاعة|إشاعات|شائعة|شائعات|أخبار كاذبة|خبر كاذب|أخبار مزيفة|مزيف|مفبرك|فيديو قديم)", 2.5),
    Rule("rumour", _B + r"(?:هل صحيح|هل هذا صحيح|صحيح أن|هل الخبر صحيح|منتشر على|ينتشر على|متداول)", 2.0),
    Rule("rumour", _B + r"(?:يقولون|بيقولوا|يقال إن|سمعت أن)", 1.0),
    Rule("emergency", _AR + r"(?:النجدة|نجدة|ساعدوني|ساعدونا|الحقوني|الحقونا|أنقذوني|أنقذونا|طوارئ|عاجل|خطر|إسعاف)", 1.5),
    Rule("emergency", _B + r"(?:بسرعة|فورا)", 0.8),
    Rule("crime_report", _AR + r"(?:سرق|مسروق|حرامي|حرامية|نشال|نشل|اعتداء|اعتدى|اعتدوا|تحرش)", 1.5),
    Rule("crime_report", _AR + r"(?:لص|لصوص|سطو)" + _E, 1.5),
    Rule("crime_report", _AR + r"(?:مخدرات|احتيال|نصاب|تهديد|هددني|ضربني|ضربوني|تخريب)", 1.0),
    Rule("abuse", _B + r"(?:يا (?:كلب|حمار|خنزير|حقير|حيوان)|كلاب|حقير|حقيرين|خنازير|حمير|يلعن|أوغاد|قذرين|تفو)" + _E, 1.5),
    Rule("spam", _AR + r"(?:اربح|ربح مضمون|مجانا|اضغط على الرابط|اضغط هنا|بيتكوين|عملات رقمية|تابعني|تابعوني)", 1.5),
]

PERSIAN: list[Rule] = [
    Rule("question", _B + r"(?:کجا|کی|چه|چرا|چطور|چطوری|چگونه|چند|کدام|کدوم|آیا|چی)" + _E, 0.8),
    Rule("information", _B + r"(?:دیدم|متوجه شدم|اطلاع ?می ?دهم|مشکوک|پلاک)", 1.2),
    Rule("complaint", _B + r"(?:شکایت|اعتراض|افتضاح|بد ?رفتاری|بی ?احترامی|غیر ?قابل ?قبول|هیچ ?کس نیامد|کسی نیامد|شرم ?آور|ناراضی)", 1.5),
    Rule("praise", _B + r"(?:ممنون|مرسی|متشکر|سپاس|دست ?تون درد نکنه|دستتان درد نکند|خسته نباشید|عالی|آفرین)", 1.5),
    Rule("rumour", _B + r"(?:شایعه|شایعات|خبر دروغ|اخبار جعلی|جعلی|دروغ ?پراکنی|آیا درست است|راسته|واقعیت داره)", 2.0),
    Rule("emergency", _B + r"(?:کمک ?(?:کنید|کن)|کمکم|کمک!|فوری|اورژانس|آمبولانس|خطر|نجاتم|نجات بدید|نجاتمون)", 1.5),
    Rule("emergency", _B + r"کمک", 0.8),
    Rule("crime_report", _B + r"(?:دزد|دزدی|دزدیدن|دزدیده|سرقت|زورگیری|کیف ?قاپی|جیب ?بر|کتک|آزار|مزاحمت|تهدید)", 1.5),
    Rule("crime_report", _B + r"(?:مواد مخدر|کلاهبرداری)", 1.0),
    Rule("abuse", _B + r"(?:احمق|کثافت|آشغال|لعنتی|خفه شو)" + _E, 1.5),
    Rule("spam", _B + r"(?:رایگان|بیت ?کوین|ارز دیجیتال|سرمایه ?گذاری|کلیک کنید|فالو کنید)", 1.5),
]

# Drafted for issue 15 (not reviewed by native speakers): the cues people use most for a question,
# thanks, a complaint, "is it true", a call for help and a theft. Thinner than the lists above.
WELSH: list[Rule] = [
    Rule("question", r"^\s*(?:ble|pryd|sut|pam|beth|faint|pwy|oes|ydy|ydi|a oes)\b", 0.8),
    Rule("praise", r"\b(?:diolch|gwych|hyfryd|ardderchog|da iawn|bendigedig|mwynhau\w*|caredig)\b", 1.5),
    Rule("complaint", r"\b(?:ofnadwy|gwarthus|cywilydd\w*|annerbyniol|siomedig|cwyn\w*|aros am (?:awr|oriau))\b", 1.5),
    Rule("rumour", r"\b(?:ydy hi'n wir|ydy'n wir|ai gwir|si ar led|sibrydion|newyddion ffug)\b", 2.0),
    Rule("emergency", r"\b(?:helpwch|argyfwng|ambiwlans|perygl|brysiwch)\b", 1.5),
    Rule("crime_report", r"\b(?:wedi dwyn|lladrata|lleidr|lladron|ymosod\w*)\b", 1.5),
]

ITALIAN: list[Rule] = [
    Rule("question", r"^\s*(?:dove|quando|come|perche|cosa|che cosa|quale|quali|chi|quanto|quanti|a che ora)\b", 0.8),
    Rule("praise", r"\b(?:grazie|bravi|bravo|ottim\w*|bellissim\w*|perfett\w*|gentil\w*|complimenti|fantastic\w*)\b", 1.5),
    Rule("complaint", r"\b(?:vergogna|terribil\w*|pessim\w*|inaccettabil\w*|schifo|reclamo|abbiamo aspettato|nessuno (?:e venuto|ha risposto))\b", 1.5),
    Rule("rumour", r"\b(?:e vero che|e vero|voci|bufal\w*|notizi\w* fals\w*|fake news|gira su)\b", 2.0),
    Rule("emergency", r"\b(?:aiuto|aiutateci|soccorso|emergenza|ambulanza|pericolo|urgente)\b", 1.5),
    Rule("crime_report", r"\b(?:rubat\w*|furto|ladr\w*|borseggi\w*|aggredit\w*|denuncia\w*)\b", 1.5),
]

PORTUGUESE: list[Rule] = [
    Rule("question", r"^\s*(?:onde|quando|como|por que|porque|o que|qual|quais|quem|quanto|quantos|a que horas)\b", 0.8),
    Rule("praise", r"\b(?:obrigad\w*|valeu|parabens|otimo|excelente|lind[oa]s?|maravilh\w*|simpatic\w*|gentis)\b", 1.5),
    Rule("complaint", r"\b(?:vergonha|horrivel|pessim\w*|absurdo|inaceitavel|reclamac\w*|esperamos (?:uma hora|horas|muito)|ninguem (?:veio|respondeu))\b", 1.5),
    Rule("rumour", r"\b(?:e verdade que|e verdade|boato\w*|noticia\w* fals\w*|fake news|esta circulando)\b", 2.0),
    Rule("emergency", r"\b(?:socorro|ajudem|emergencia|ambulancia|perigo|urgente)\b", 1.5),
    Rule("crime_report", r"\b(?:roubad\w*|roubaram|roubo|furto|ladr\w*|assalt\w*|agredid\w*)\b", 1.5),
]

TURKISH: list[Rule] = [
    Rule("question", r"\b(?:nerede|nereye|ne zaman|nasil|neden|niye|kim|kac|hangi)\b|\b(?:mi|mu|mı|mü)\s*[?]?$", 0.8),
    Rule("praise", r"\b(?:tesekkur\w*|sagol\w*|harika\w*|mukemmel\w*|nazik\w*|bravo|elinize saglik|guzel\w*)", 1.5),
    Rule("complaint", r"\b(?:rezalet|berbat|kotu\w*|korkunc|utanc\w*|sikayet\w*|kabul edilemez|saatlerce bekledik|bir saat bekledik)", 1.5),
    Rule("rumour", r"\b(?:dogru mu|gercek mi|soylenti\w*|yalan haber|sahte haber|dedikodu)", 2.0),
    Rule("emergency", r"\b(?:imdat|yardim edin|acil|ambulans|tehlike)", 1.5),
    Rule("crime_report", r"\b(?:caldi\w*|calindi|hirsiz\w*|yankesici\w*|gasp|saldiri\w*)", 1.5),
]

RUSSIAN: list[Rule] = [
    Rule("question", r"^\s*(?:где|когда|как|почему|зачем|что|какой|какая|какие|сколько|кто|во сколько|правда)" + _E, 0.8),
    Rule("praise", _B + r"(?:спасибо|благодар\w*|молодц\w*|отличн\w*|прекрасн\w*|потрясающ\w*|вежлив\w*)", 1.5),
    Rule("complaint", _B + r"(?:ужасн\w*|позор|безобраз\w*|отвратительн\w*|недопустим\w*|жалоб\w*|ждали (?:час|часами|долго)|никто не (?:приехал|пришел|ответил))", 1.5),
    Rule("rumour", _B + r"(?:правда,? что|это правда|слух\w*|фейк\w*|ложн\w* (?:новост\w*|информац\w*))", 2.0),
    Rule("emergency", _B + r"(?:помогите|спасите|срочно|скорую|опасно)", 1.5),
    Rule("crime_report", _B + r"(?:украл\w*|украден\w*|кража|ограбил\w*|напал\w*|избил\w*|вор(?:ы|а|ов|ом|у)?(?!\w))", 1.5),
]

SOMALI: list[Rule] = [
    Rule("question", r"\b(?:xaggee|halkee|goorma|sidee|maxay|maxaa|yaa|immisa|intee|ma run)\b", 0.8),
    Rule("praise", r"\b(?:mahadsan\w*|aad baad u mahadsan\w*|qurux\w*|fiican|wanaagsan)\b", 1.5),
    Rule("complaint", r"\b(?:xun|xumaa|ceeb|cabasho|saacad ayaan sugnay|saacado ayaan sugnay)\b", 1.5),
    Rule("rumour", r"\b(?:ma run baa|run ma tahay|war been ah|xan)\b", 2.0),
    Rule("emergency", r"\b(?:caawimaad|caawiya|gargaar|degdeg|ambalaas)\b", 1.5),
    Rule("crime_report", r"\b(?:la xaday|xatooy\w*|tuug\w*|la weeraray)\b", 1.5),
]

URDU: list[Rule] = [
    Rule("question", _B + r"(?:کہاں|کب|کیسے|کیوں|کیا|کون|کتنے|کتنا|کتنی)" + _E, 0.8),
    Rule("praise", _B + r"(?:شکریہ|بہترین|زبردست|شاندار|خوبصورت|مہربان)", 1.5),
    Rule("complaint", _B + r"(?:شکایت|برا انتظام|بہت برا|خراب|شرم|ناقابل قبول|انتظار کرنا پڑا)", 1.5),
    Rule("rumour", _B + r"(?:کیا یہ سچ ہے|سچ ہے کہ|افواہ|جھوٹی خبر)", 2.0),
    Rule("emergency", _B + r"(?:مدد کریں|بچاؤ|ایمبولینس|خطرہ|فوری)", 1.5),
    Rule("crime_report", _B + r"(?:چوری|چور(?!\w)|لوٹ لیا|حملہ)", 1.5),
]

PASHTO: list[Rule] = [
    Rule("question", _B + r"(?:چیرته|کله|څنګه|ولې|څه|څوک|څو|ایا)" + _E, 0.8),
    Rule("praise", _B + r"(?:مننه|ډېره مننه|ښکل|عالي|مهربان)", 1.5),
    Rule("complaint", _B + r"(?:شکایت|ډېر بد|خراب|شرم|انتظار وکړ)", 1.5),
    Rule("rumour", _B + r"(?:ایا دا رښتیا|رښتیا ده چې|اوازې|دروغ خبر)", 2.0),
    Rule("emergency", _B + r"(?:مرسته وکړئ|ژغورئ|امبولانس|خطر)", 1.5),
    Rule("crime_report", _B + r"(?:غلا|غل(?!\w)|ودهل)", 1.5),
]

SORANI: list[Rule] = [
    Rule("question", _B + r"(?:لە کوێ|کوێ|کەی|چۆن|بۆچی|چی|کێ|چەند|ئایا)", 0.8),
    Rule("praise", _B + r"(?:سوپاس|دەستخۆش|زۆر جوان|نایاب|میهرەبان)", 1.5),
    Rule("complaint", _B + r"(?:سکاڵا|زۆر خراپ|خراپ بوو|شەرم|چاوەڕێمان کرد)", 1.5),
    Rule("rumour", _B + r"(?:ئایا ڕاستە|ڕاستە کە|دەنگۆ|هەواڵی درۆ)", 2.0),
    Rule("emergency", _B + r"(?:یارمەتی|فریامان کەون|ئەمبولانس|مەترسی)", 1.5),
    Rule("crime_report", _B + r"(?:دزی|دز(?!\w)|دزرا)", 1.5),
]

ETHIOPIC: list[Rule] = [
    # Tigrinya ሓገዝ "help"; Amharic እርዳታ "help", ድረሱልን "come to our aid".
    Rule("emergency", r"(?:ሓገዝ|እርዳታ|ድረሱልን|ኣምቡላንስ|አምቡላንስ)", 1.0),
    # Tigrinya የቐንየለይ / የቐንየልና "thank you"; Amharic አመሰግናለሁ / እናመሰግናለን.
    Rule("praise", r"(?:የቐንየለይ|የቐንየልና|የቐንየልኩም|አመሰግናለሁ|እናመሰግናለን)", 1.5),
    # Tigrinya question words (ኣበይ where, መዓስ when, ስለምንታይ why, ከመይ how) and "is it true".
    Rule("question", r"(?:ኣበይ|መዓስ|ስለምንታይ|ከመይ|እንታይ|የት|መቼ|ለምን)", 0.8),
    Rule("complaint", r"(?:ሕማቕ|ነውሪ|ተጸቢና|መጥፎ|አሳፋሪ)", 1.5),
    Rule("rumour", r"(?:ሓቂ ድዩ|ሓቂ ዶ|ወረ|እውነት ነው)", 2.0),
]

DEFAULT_RULES: dict[str, list[Rule]] = {
    "*": ANY_LANGUAGE,
    "en": ENGLISH,
    "fr": FRENCH,
    "es": SPANISH,
    "de": GERMAN,
    "pl": POLISH,
    "ro": ROMANIAN,
    "uk": UKRAINIAN,
    "ar": ARABIC,
    "fa": PERSIAN,
    "ti": ETHIOPIC,
    "am": ETHIOPIC,
    "cy": WELSH,
    "it": ITALIAN,
    "pt": PORTUGUESE,
    "tr": TURKISH,
    "ru": RUSSIAN,
    "so": SOMALI,
    "ur": URDU,
    "ps": PASHTO,
    "ckb": SORANI,
}
