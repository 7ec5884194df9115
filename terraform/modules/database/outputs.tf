output "cluster_id" {
  description = "ID of the database cluster; null when disabled."
  value       = one(digitalocean_database_cluster.this[*].id)
}

output "private_host" {
  description = "Host name inside the VPC (what the droplets connect to); null when disabled."
  value       = one(digitalocean_database_cluster.this[*].private_host)
}

output "port" {
  description = "PostgreSQL port; null when disabled."
  value       = one(digitalocean_database_cluster.this[*].port)
}

output "database" {
  description = "Application database name; null when disabled."
  value       = one(digitalocean_database_db.app[*].name)
}

output "user" {
  description = "Application role name; null when disabled."
  value       = one(digitalocean_database_user.app[*].name)
}

output "password" {
  description = "Application role password. Sensitive: read it with `terraform output -raw` into a secret store, never into a log."
  value       = one(digitalocean_database_user.app[*].password)
  sensitive   = true
}

output "urn" {
  description = "Uniform resource name, for digitalocean_project_resources; null when disabled."
  value       = one(digitalocean_database_cluster.this[*].urn)
}
