output "shipyard_hosts" {
  description = "Hosts for shipyard.yaml environments.<env>.hosts (reserved IPs when enabled); `invoke infra.hosts --env <env>` prints them."
  value       = module.cluster.shipyard_hosts
}

output "private_hosts" {
  description = "VPC address of each droplet, in the order of shipyard_hosts: `invoke infra.hosts` writes them as private_address (where accessories publish)."
  value       = module.cluster.private_ipv4
}

output "deploy_user" {
  description = "SSH user for shipyard.yaml environments.<env>.ssh.user."
  value       = module.cluster.deploy_user
}

output "droplet_tag" {
  description = "Tag carried by this environment's droplets."
  value       = module.cluster.tag
}

output "vpc_id" {
  description = "ID of this environment's VPC."
  value       = module.network.vpc_id
}

output "load_balancer_ip" {
  description = "Point DNS here when the load balancer is enabled (null otherwise)."
  value       = module.loadbalancer.ip
}

output "registry_endpoint" {
  description = "Image prefix when this environment created the registry (null otherwise)."
  value       = module.registry.endpoint
}

output "database_private_host" {
  description = "PostgreSQL host inside the VPC (null without a database)."
  value       = module.database.private_host
}

output "database_port" {
  description = "PostgreSQL port (null without a database)."
  value       = module.database.port
}

output "database_name" {
  description = "Application database name (null without a database)."
  value       = module.database.database
}

output "database_user" {
  description = "Application role (null without a database)."
  value       = module.database.user
}

output "database_password" {
  description = "Application role password; sensitive: pipe `terraform output -raw database_password` into your secret store."
  value       = module.database.password
  sensitive   = true
}
