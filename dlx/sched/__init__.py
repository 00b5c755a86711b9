"""LR schedules, stepped once per epoch: `conf/sched/<name>.yaml` names `(optimizer, total_epochs, **options)`."""
