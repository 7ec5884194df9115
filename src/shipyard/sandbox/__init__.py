"""The sandbox: local VMs to rehearse deploys on, and the load generator used to prove zero downtime."""
