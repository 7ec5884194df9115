"""Deploy targets: compose, VMs over SSH, Kubernetes. One interface: deploy, rollback, status."""
