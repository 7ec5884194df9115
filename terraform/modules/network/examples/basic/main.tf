# terraform init && terraform apply: one VPC in fra1.
module "network" {
  source = "../.."

  name     = "example-dev"
  region   = "fra1"
  ip_range = "10.100.0.0/20"
}

output "vpc_id" {
  value = module.network.vpc_id
}
