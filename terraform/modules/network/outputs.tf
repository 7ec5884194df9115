output "vpc_id" {
  description = "ID of the VPC (droplet-cluster vpc_id, loadbalancer vpc_id, database vpc_id)."
  value       = digitalocean_vpc.this.id
}

output "ip_range" {
  description = "Private IPv4 range of the VPC."
  value       = digitalocean_vpc.this.ip_range
}

output "urn" {
  description = "Uniform resource name, for digitalocean_project_resources."
  value       = digitalocean_vpc.this.urn
}
