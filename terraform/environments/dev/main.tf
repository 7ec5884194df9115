# dev stays small: one droplet, no load balancer (80/443 open on the droplet), no managed database (the
# app's compose stack has its own), no registry (staging creates the account's one).
module "stack" {
  source = "../../modules/shipyard-stack"

  project              = var.project
  environment          = "dev"
  region               = var.region
  ssh_key_fingerprints = var.ssh_key_fingerprints
  deploy_public_keys   = var.deploy_public_keys
  ssh_source_addresses = var.ssh_source_addresses
  alert_emails         = var.alert_emails

  vpc_ip_range  = "10.10.0.0/20"
  droplet_count = 1
  droplet_size  = "s-1vcpu-1gb"
}
