# A single-node PostgreSQL 16 cluster that only droplets tagged "example-web-dev" can reach.
module "network" {
  source = "../../../network"

  name     = "example-db"
  region   = "fra1"
  ip_range = "10.103.0.0/20"
}

module "database" {
  source = "../.."

  name                = "example-pg"
  region              = "fra1"
  vpc_id              = module.network.vpc_id
  allowed_droplet_tag = "example-web-dev"
}

output "database_private_host" {
  value = module.database.private_host
}
