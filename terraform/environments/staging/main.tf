# staging mirrors production at a smaller size: two droplets behind a load balancer (only it reaches 80/443),
# a single-node PostgreSQL, and the account's container registry when create_registry is set.
module "stack" {
  source = "../../modules/shipyard-stack"

  project              = var.project
  environment          = "staging"
  region               = var.region
  ssh_key_fingerprints = var.ssh_key_fingerprints
  deploy_public_keys   = var.deploy_public_keys
  ssh_source_addresses = var.ssh_source_addresses
  alert_emails         = var.alert_emails
  certificate_name     = var.certificate_name
  create_registry      = var.create_registry
  registry_name        = var.registry_name

  vpc_ip_range         = "10.20.0.0/20"
  droplet_count        = 2
  droplet_size         = "s-1vcpu-2gb"
  enable_load_balancer = true
  enable_database      = true
  database_node_count  = 1
}
