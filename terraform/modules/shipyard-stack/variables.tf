# What an environment root passes in. The modules this one calls validate their own inputs again; the rules
# here are the stack's: names that fit once prefixed, whole counts, and lists that must not be empty.

variable "project" {
  description = "Project name: prefixes every resource name (shop -> shop-staging-web-1)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,20}[a-z0-9]$", var.project))
    error_message = "project must be 3-22 lowercase letters, digits or '-', starting with a letter."
  }
}

variable "environment" {
  description = "Environment name (dev, staging or production): resource names, tags and the console project."
  type        = string

  validation {
    condition     = contains(["dev", "staging", "production"], var.environment)
    error_message = "environment must be one of dev, staging, production."
  }
}

variable "region" {
  description = "DigitalOcean region slug for every resource of this environment, for example fra1."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{3}[0-9]$", var.region))
    error_message = "region must be a region slug such as fra1, ams3 or nyc3."
  }
}

variable "vpc_ip_range" {
  description = "Private range of this environment's VPC (/16 to /24); must not overlap another VPC in the region."
  type        = string

  validation {
    condition     = can(cidrhost(var.vpc_ip_range, 0))
    error_message = "vpc_ip_range must be a CIDR such as 10.20.0.0/20."
  }
}

variable "droplet_count" {
  description = "Number of application droplets (Shipyard hosts)."
  type        = number
  default     = 1

  validation {
    condition     = var.droplet_count >= 1 && var.droplet_count <= 20 && floor(var.droplet_count) == var.droplet_count
    error_message = "droplet_count must be a whole number between 1 and 20."
  }
}

variable "droplet_size" {
  description = "Droplet size slug, for example s-1vcpu-1gb or s-2vcpu-4gb."
  type        = string
  default     = "s-1vcpu-1gb"

  validation {
    condition     = can(regex("^[a-z0-9]+(-[a-z0-9]+)+$", var.droplet_size))
    error_message = "droplet_size must be a size slug such as s-1vcpu-2gb."
  }
}

variable "backups" {
  description = "Enable DigitalOcean weekly droplet backups."
  type        = bool
  default     = false
}

variable "reserved_ips" {
  description = "Give every droplet a reserved IP (stable shipyard.yaml hosts across rebuilds)."
  type        = bool
  default     = false
}

variable "ssh_key_fingerprints" {
  description = "Fingerprints (or numeric IDs) of SSH keys uploaded to DigitalOcean (doctl compute ssh-key list), for root."
  type        = list(string)

  validation {
    condition     = length(var.ssh_key_fingerprints) > 0 && alltrue([for f in var.ssh_key_fingerprints : can(regex("^([0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){15}|[0-9]+)$", f))])
    error_message = "ssh_key_fingerprints must hold at least one MD5 fingerprint (3b:16:...:fa) or key ID."
  }
}

variable "deploy_public_keys" {
  description = "OpenSSH public keys of the deploy user Shipyard connects as (the CI deploy key and your own)."
  type        = list(string)

  validation {
    condition     = length(var.deploy_public_keys) > 0
    error_message = "give at least one public key for the deploy user."
  }
}

variable "ssh_source_addresses" {
  description = "CIDRs allowed to reach SSH: office/VPN ranges and the CI runners that deploy."
  type        = list(string)

  validation {
    condition     = length(var.ssh_source_addresses) > 0 && alltrue([for c in var.ssh_source_addresses : can(cidrhost(c, 0))])
    error_message = "ssh_source_addresses must be a non-empty list of CIDRs such as 203.0.113.0/24."
  }
}

variable "alert_emails" {
  description = "E-mail addresses for CPU/memory/disk alerts; [] for none."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for e in var.alert_emails : can(regex("^[^@ ]+@[^@ ]+\\.[^@ ]+$", e))])
    error_message = "alert_emails must be e-mail addresses."
  }
}

variable "enable_load_balancer" {
  description = "Put a DigitalOcean load balancer (health check on /health) in front of the droplets; then only it reaches 80/443."
  type        = bool
  default     = false
}

variable "certificate_name" {
  description = "DigitalOcean certificate for HTTPS on the load balancer; null for HTTP only."
  type        = string
  default     = null

  validation {
    condition     = var.certificate_name == null || can(regex("^[A-Za-z0-9._-]{1,255}$", var.certificate_name))
    error_message = "certificate_name must be null or the name of a certificate uploaded to DigitalOcean."
  }
}

variable "enable_database" {
  description = "Create a managed PostgreSQL cluster reachable only from this environment's droplets."
  type        = bool
  default     = false
}

variable "database_node_count" {
  description = "Database nodes: 1, or 2-3 for a standby (high availability)."
  type        = number
  default     = 1

  validation {
    condition     = contains([1, 2, 3], var.database_node_count)
    error_message = "database_node_count must be 1, 2 or 3."
  }
}

variable "create_registry" {
  description = "Create the account's container registry from this environment (one registry per account)."
  type        = bool
  default     = false
}

variable "registry_name" {
  description = "Container registry name (shipyard.yaml registry.namespace); null for the project name."
  type        = string
  default     = null

  validation {
    condition     = var.registry_name == null || can(regex("^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$", var.registry_name))
    error_message = "registry_name must be null or 3-63 lowercase letters, digits or '-'."
  }
}
