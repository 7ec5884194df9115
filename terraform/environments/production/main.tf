# production: three droplets with weekly backups and reserved IPs (stable hosts in shipyard.yaml) behind a
# load balancer (only it reaches 80/443), PostgreSQL with a standby; it pulls from the registry staging created.
module "stack" {
  source = "../../modules/shipyard-stack"

  project              = var.project
  environment          = "production"
  region               = var.region
  ssh_key_fingerprints = var.ssh_key_fingerprints
  deploy_public_keys   = var.deploy_public_keys
  ssh_source_addresses = var.ssh_source_addresses
  alert_emails         = var.alert_emails
  certificate_name     = var.certificate_name

  vpc_ip_range         = "10.30.0.0/20"
  droplet_count        = 3
  droplet_size         = "s-2vcpu-4gb"
  backups              = true
  reserved_ips         = true
  enable_load_balancer = true
  enable_database      = true
  database_node_count  = 2
}
