"""The answers Engage ships for every team: the urgent "call 999/112 now" in the languages the
classifier supports, and a general acknowledgement. A team's own template of the same purpose and
language takes precedence."""

from django.db import migrations

URGENT = {
    "en": "If you or someone else is in danger, call 999 now (or 112). This account is not watched around the "
          "clock.",
    "ar": "إذا كنت أنت أو أي شخص آخر في خطر، اتصل بالرقم 999 الآن (أو 112). لا تتم متابعة هذا الحساب على مدار "
          "الساعة.",
    "fa": "اگر شما یا شخص دیگری در خطر هستید، همین حالا با 999 (یا 112) تماس بگیرید. این حساب به‌صورت "
          "شبانه‌روزی بررسی نمی‌شود.",
    "fr": "Si vous ou quelqu'un d'autre êtes en danger, appelez le 999 maintenant (ou le 112). Ce compte n'est "
          "pas surveillé en permanence.",
    "es": "Si usted u otra persona está en peligro, llame ahora al 999 (o al 112). Esta cuenta no se vigila las "
          "24 horas.",
    "de": "Wenn Sie oder jemand anderes in Gefahr sind, rufen Sie jetzt 999 an (oder 112). Dieses Konto wird "
          "nicht rund um die Uhr gelesen.",
    "pl": "Jeśli Ty lub ktoś inny jest w niebezpieczeństwie, zadzwoń teraz pod numer 999 (lub 112). To konto "
          "nie jest obsługiwane przez całą dobę.",
    "ro": "Dacă dumneavoastră sau altcineva sunteți în pericol, sunați acum la 999 (sau 112). Acest cont nu este "
          "urmărit non-stop.",
    "uk": "Якщо вам або комусь іншому загрожує небезпека, негайно телефонуйте 999 (або 112). Цей акаунт не "
          "переглядається цілодобово.",
}

THANKS = {
    "en": "Thank you for your message. A community liaison officer has read it. For emergencies call 999; to "
          "report a crime call 101.",
    "ar": "شكرًا لرسالتك. لقد قرأها أحد ضباط التواصل المجتمعي. في حالات الطوارئ اتصل بالرقم 999، وللإبلاغ عن "
          "جريمة اتصل بالرقم 101.",
}


def ship(apps, schema_editor):
    AnswerTemplate = apps.get_model("engage", "AnswerTemplate")
    for language, body in URGENT.items():
        AnswerTemplate.objects.get_or_create(
            team=None, title="Call 999 or 112 now", language=language,
            defaults={"purpose": "urgent", "body": body, "is_active": True})
    for language, body in THANKS.items():
        AnswerTemplate.objects.get_or_create(
            team=None, title="Thank you, we have read it", language=language,
            defaults={"purpose": "general", "body": body, "is_active": True})


def unship(apps, schema_editor):
    AnswerTemplate = apps.get_model("engage", "AnswerTemplate")
    AnswerTemplate.objects.filter(team=None, title__in=["Call 999 or 112 now", "Thank you, we have read it"]).delete()


class Migration(migrations.Migration):
    dependencies = [("engage", "0001_initial")]

    operations = [migrations.RunPython(ship, unship)]
