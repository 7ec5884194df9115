"""Deploy targets: compose, VMs over SSH (targets/vm/), Kubernetes. One interface (base.ReleaseTarget): plan,
deploy, rollback, status, history, logs, exec; `base.release_target` picks an environment's implementation."""
