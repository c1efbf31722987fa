from django.db import migrations

SWEEP = "executions.jobs.sweep_stalled_task_runs"


def unschedule_sweep(apps, schema_editor):
    # The sweep now runs on the clock's tick (executions/upkeep.py): one timer, not two.
    apps.get_model("django_q", "Schedule").objects.filter(func=SWEEP).delete()


def schedule_sweep(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.get_or_create(
        func=SWEEP,
        defaults={
            "name": "Flowsite: re-enqueue stalled task runs",
            "schedule_type": "I",
            "minutes": 1,
            "repeats": -1,
        },
    )


class Migration(migrations.Migration):
    dependencies = [("executions", "0004_task_run_heartbeat")]

    operations = [migrations.RunPython(unschedule_sweep, schedule_sweep)]
