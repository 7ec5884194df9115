output "tag" {
  description = "The cluster tag: select these droplets in load balancers and database firewalls."
  value       = digitalocean_tag.cluster.id
}

output "droplet_ids" {
  description = "IDs of the droplets, in order."
  value       = digitalocean_droplet.node[*].id
}

output "droplet_names" {
  description = "Names of the droplets, in order."
  value       = digitalocean_droplet.node[*].name
}

output "public_ipv4" {
  description = "Public IPv4 address of each droplet (its own address, not the reserved IP)."
  value       = digitalocean_droplet.node[*].ipv4_address
}

output "private_ipv4" {
  description = "VPC address of each droplet."
  value       = digitalocean_droplet.node[*].ipv4_address_private
}

output "reserved_ipv4" {
  description = "Reserved IP of each droplet, or [] when reserved_ips is false."
  value       = digitalocean_reserved_ip.node[*].ip_address
}

output "shipyard_hosts" {
  description = "Addresses Shipyard deploys to over SSH (reserved IPs when enabled); paste under environments.<env>.hosts."
  value       = var.reserved_ips ? digitalocean_reserved_ip.node[*].ip_address : digitalocean_droplet.node[*].ipv4_address
}

output "deploy_user" {
  description = "User Shipyard connects as (environments.<env>.ssh.user)."
  value       = var.deploy_user
}

output "droplet_urns" {
  description = "Uniform resource names of the droplets, for digitalocean_project_resources."
  value       = digitalocean_droplet.node[*].urn
}
