# A small staging-like environment: two droplets behind a load balancer, a single-node PostgreSQL.
# terraform init && terraform plan -var ssh_key_fingerprint=... -var deploy_public_key=... -var admin_cidr=...
variable "ssh_key_fingerprint" {
  description = "Fingerprint of an SSH key uploaded to DigitalOcean."
  type        = string
}

variable "deploy_public_key" {
  description = "OpenSSH public key for the deploy user."
  type        = string
}

variable "admin_cidr" {
  description = "CIDR allowed to reach SSH, for example your office range."
  type        = string
}

module "stack" {
  source = "../.."

  project              = "example"
  environment          = "staging"
  region               = "fra1"
  vpc_ip_range         = "10.104.0.0/20"
  droplet_count        = 2
  droplet_size         = "s-1vcpu-2gb"
  ssh_key_fingerprints = [var.ssh_key_fingerprint]
  deploy_public_keys   = [var.deploy_public_key]
  ssh_source_addresses = [var.admin_cidr]
  enable_load_balancer = true
  enable_database      = true
}

output "shipyard_hosts" {
  description = "Paste under environments.staging.hosts in shipyard.yaml (invoke infra.hosts does it for an environment)."
  value       = module.stack.shipyard_hosts
}

output "load_balancer_ip" {
  description = "Point DNS here."
  value       = module.stack.load_balancer_ip
}
