output "endpoint" {
  description = "Image prefix, for example registry.digitalocean.com/acme (null when disabled)."
  value       = one(digitalocean_container_registry.this[*].endpoint)
}

output "server_url" {
  description = "Registry host for shipyard.yaml registry.address (registry.digitalocean.com; null when disabled)."
  value       = one(digitalocean_container_registry.this[*].server_url)
}

output "name" {
  description = "Registry name for shipyard.yaml registry.namespace (null when disabled)."
  value       = one(digitalocean_container_registry.this[*].name)
}
