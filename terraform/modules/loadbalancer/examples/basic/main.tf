# A load balancer in front of every droplet tagged "example-web-dev", health-checked on /health.
module "network" {
  source = "../../../network"

  name     = "example-lb"
  region   = "fra1"
  ip_range = "10.102.0.0/20"
}

module "loadbalancer" {
  source = "../.."

  name        = "example-lb"
  region      = "fra1"
  vpc_id      = module.network.vpc_id
  droplet_tag = "example-web-dev"
}

output "load_balancer_ip" {
  value = module.loadbalancer.ip
}
