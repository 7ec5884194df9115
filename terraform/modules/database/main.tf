# Managed PostgreSQL, reachable only over the VPC and only from the cluster's droplets (by tag).
# The generated password lives in the Terraform state: keep the state in a private, encrypted Spaces bucket
# and hand the password to the hosts through Shipyard's secrets (never through a committed file).
resource "digitalocean_database_cluster" "this" {
  count = var.enabled ? 1 : 0

  name                 = var.name
  engine               = "pg"
  version              = var.postgres_version
  size                 = var.size
  region               = var.region
  node_count           = var.node_count
  private_network_uuid = var.vpc_id
  tags                 = var.tags

  maintenance_window {
    day  = var.maintenance_window.day
    hour = var.maintenance_window.hour
  }
}

resource "digitalocean_database_firewall" "this" {
  count = var.enabled ? 1 : 0

  cluster_id = digitalocean_database_cluster.this[0].id

  rule {
    type  = "tag"
    value = var.allowed_droplet_tag
  }
}

resource "digitalocean_database_db" "app" {
  count = var.enabled ? 1 : 0

  cluster_id = digitalocean_database_cluster.this[0].id
  name       = var.database_name
}

resource "digitalocean_database_user" "app" {
  count = var.enabled ? 1 : 0

  cluster_id = digitalocean_database_cluster.this[0].id
  name       = var.database_user
}
