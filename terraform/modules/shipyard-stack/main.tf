# One Shipyard environment: a VPC, the Docker-ready droplets Shipyard deploys to, and, when switched on, a load
# balancer, a managed PostgreSQL and the account's container registry. Environment roots call this module once
# with their sizes and toggles; every name below derives from "<project>-<environment>".
locals {
  prefix = "${var.project}-${var.environment}"
  console_environment = {
    dev        = "Development"
    staging    = "Staging"
    production = "Production"
  }
}

module "network" {
  source = "../network"

  name     = local.prefix
  region   = var.region
  ip_range = var.vpc_ip_range
}

module "cluster" {
  source = "../droplet-cluster"

  name                 = "${local.prefix}-web"
  environment          = var.environment
  region               = var.region
  droplet_count        = var.droplet_count
  size                 = var.droplet_size
  vpc_id               = module.network.vpc_id
  ssh_key_fingerprints = var.ssh_key_fingerprints
  deploy_public_keys   = var.deploy_public_keys
  ssh_source_addresses = var.ssh_source_addresses
  reserved_ips         = var.reserved_ips
  backups              = var.backups
  tags                 = ["project:${var.project}"]

  # With a load balancer, only it reaches 80/443 on the droplets; without one, everyone does.
  web_source_addresses          = var.enable_load_balancer ? [] : ["0.0.0.0/0", "::/0"]
  web_source_load_balancer_uids = var.enable_load_balancer ? [module.loadbalancer.id] : []

  monitoring_alert_emails = var.alert_emails
}

module "loadbalancer" {
  source = "../loadbalancer"

  enabled          = var.enable_load_balancer
  name             = "${local.prefix}-lb"
  region           = var.region
  vpc_id           = module.network.vpc_id
  droplet_tag      = module.cluster.tag
  certificate_name = var.certificate_name
}

module "database" {
  source = "../database"

  enabled             = var.enable_database
  name                = "${local.prefix}-pg"
  region              = var.region
  vpc_id              = module.network.vpc_id
  node_count          = var.database_node_count
  allowed_droplet_tag = module.cluster.tag
  tags                = ["env:${var.environment}", "project:${var.project}"]
}

module "registry" {
  source = "../registry"

  enabled = var.create_registry
  name    = coalesce(var.registry_name, var.project)
  region  = var.region
}

# Groups this environment's resources in the DigitalOcean console.
resource "digitalocean_project" "this" {
  name        = local.prefix
  description = "${var.project} ${var.environment}, managed by Terraform (Shipyard)"
  purpose     = "Web Application"
  environment = local.console_environment[var.environment]
  resources = compact(concat(
    module.cluster.droplet_urns,
    [module.loadbalancer.urn, module.database.urn],
  ))
}
