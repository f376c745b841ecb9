from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0008_user_reads_languages'),
    ]

    operations = [
        migrations.AddField(
            model_name='user',
            name='desk_language',
            field=models.CharField(choices=[('en', 'English'), ('cy', 'Cymraeg')], default='en', max_length=8),
        ),
    ]
