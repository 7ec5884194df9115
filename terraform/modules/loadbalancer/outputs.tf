output "id" {
  description = "ID of the load balancer (droplet-cluster web_source_load_balancer_uids); null when disabled."
  value       = one(digitalocean_loadbalancer.this[*].id)
}

output "ip" {
  description = "Public IP of the load balancer: point DNS here; null when disabled."
  value       = one(digitalocean_loadbalancer.this[*].ip)
}

output "urn" {
  description = "Uniform resource name, for digitalocean_project_resources; null when disabled."
  value       = one(digitalocean_loadbalancer.this[*].urn)
}
