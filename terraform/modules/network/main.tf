# One VPC per environment: droplets, the load balancer and the database talk over private addresses.
resource "digitalocean_vpc" "this" {
  name        = var.name
  region      = var.region
  ip_range    = var.ip_range
  description = var.description
}
