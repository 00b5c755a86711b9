"""Learning-rate schedules, stepped once per epoch: `conf/sched/<name>.yaml` names `(optimizer, max_epochs, **options)`."""
