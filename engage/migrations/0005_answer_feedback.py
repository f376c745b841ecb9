# "Did this answer help?" (issue 8): the anonymous AnswerFeedback and the answer's two flags.
# The team's switch is the ``answer_feedback`` key of Team.settings (JSON): no schema change.

import uuid

import django.db.models.deletion
from django.db import migrations, models

import engage.models.feedback


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0002_audit_append_only'),
        ('campaigns', '0003_rumours'),
        ('engage', '0004_metrics_indexes'),
    ]

    operations = [
        migrations.AddField(
            model_name='replyanswer',
            name='feedback_requested',
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name='replyanswer',
            name='feedback_given',
            field=models.BooleanField(default=False),
        ),
        migrations.CreateModel(
            name='AnswerFeedback',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('helpful', models.BooleanField()),
                ('created_at', models.DateTimeField(default=engage.models.feedback.this_hour,
                                                    help_text='Rounded down to the hour')),
                ('team', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+',
                                           to='accounts.team')),
                ('event', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL,
                                            related_name='+', to='campaigns.event')),
                ('campaign', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL,
                                               related_name='+', to='campaigns.campaign')),
                ('segments', models.ManyToManyField(
                    blank=True, related_name='+', to='campaigns.segment',
                    help_text='The segments the answered message targeted (rows do not add up)')),
                ('channel', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL,
                                              related_name='+', to='campaigns.channel',
                                              help_text='Our account the reply came in on; empty for the form')),
                ('channel_kind', models.CharField(blank=True, max_length=20,
                                                  help_text='The kind of channel the answer went out on')),
                ('language', models.CharField(blank=True, help_text="The reply's language", max_length=16)),
                ('phase', models.CharField(default='none', help_text='before, during, after or none',
                                           max_length=8)),
            ],
            options={
                'ordering': ['-created_at'],
                'indexes': [models.Index(fields=['team', 'created_at'], name='feedback_team_created')],
            },
        ),
    ]
