# The stack's outputs, described in modules/shipyard-stack/outputs.tf. `invoke infra.hosts` reads
# shipyard_hosts and deploy_user; database_password stays sensitive (terraform output -raw, into a secret store).
output "shipyard_hosts" {
  value = module.stack.shipyard_hosts
}

output "private_hosts" {
  value = module.stack.private_hosts
}

output "deploy_user" {
  value = module.stack.deploy_user
}

output "droplet_tag" {
  value = module.stack.droplet_tag
}

output "vpc_id" {
  value = module.stack.vpc_id
}

output "load_balancer_ip" {
  value = module.stack.load_balancer_ip
}

output "registry_endpoint" {
  value = module.stack.registry_endpoint
}

output "database_private_host" {
  value = module.stack.database_private_host
}

output "database_port" {
  value = module.stack.database_port
}

output "database_name" {
  value = module.stack.database_name
}

output "database_user" {
  value = module.stack.database_user
}

output "database_password" {
  value     = module.stack.database_password
  sensitive = true
}
