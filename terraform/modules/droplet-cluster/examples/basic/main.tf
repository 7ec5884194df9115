# Two Docker-ready droplets with a deploy user, behind a firewall, in their own VPC.
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

module "network" {
  source = "../../../network"

  name     = "example-cluster"
  region   = "fra1"
  ip_range = "10.101.0.0/20"
}

module "cluster" {
  source = "../.."

  name                 = "example-web"
  environment          = "dev"
  region               = "fra1"
  droplet_count        = 2
  vpc_id               = module.network.vpc_id
  ssh_key_fingerprints = [var.ssh_key_fingerprint]
  deploy_public_keys   = [var.deploy_public_key]
  ssh_source_addresses = [var.admin_cidr]
  reserved_ips         = true
}

output "shipyard_hosts" {
  description = "Paste under environments.<env>.hosts in shipyard.yaml."
  value       = module.cluster.shipyard_hosts
}
