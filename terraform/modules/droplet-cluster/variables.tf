variable "name" {
  description = "Name prefix of the cluster; droplets are named <name>-1 .. <name>-N."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,40}[a-z0-9]$", var.name))
    error_message = "name must be 3-42 lowercase letters, digits or '-', starting with a letter."
  }
}

variable "environment" {
  description = "Environment this cluster serves (dev, staging or production); becomes a tag."
  type        = string

  validation {
    condition     = contains(["dev", "staging", "production"], var.environment)
    error_message = "environment must be one of dev, staging, production."
  }
}

variable "region" {
  description = "DigitalOcean region slug, for example fra1 or nyc3."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{3}[0-9]$", var.region))
    error_message = "region must be a region slug such as fra1, ams3 or nyc3."
  }
}

variable "droplet_count" {
  description = "Number of droplets in the cluster."
  type        = number
  default     = 2

  validation {
    condition     = var.droplet_count >= 1 && var.droplet_count <= 20 && floor(var.droplet_count) == var.droplet_count
    error_message = "droplet_count must be a whole number between 1 and 20."
  }
}

variable "size" {
  description = "Droplet size slug, for example s-1vcpu-1gb or s-2vcpu-4gb."
  type        = string
  default     = "s-1vcpu-2gb"

  validation {
    condition     = can(regex("^[a-z0-9]+(-[a-z0-9]+)+$", var.size))
    error_message = "size must be a droplet size slug such as s-1vcpu-2gb."
  }
}

variable "image" {
  description = "Base image slug. cloud-init installs Docker from the distribution's packages (Debian or Ubuntu)."
  type        = string
  default     = "ubuntu-24-04-x64"

  validation {
    condition     = can(regex("^(ubuntu|debian)-[0-9]+(-[0-9]+)?-x64$", var.image))
    error_message = "image must be an Ubuntu or Debian x64 slug such as ubuntu-24-04-x64 or debian-12-x64."
  }
}

variable "vpc_id" {
  description = "ID of the VPC the droplets join (output vpc_id of the network module)."
  type        = string

  validation {
    condition     = length(var.vpc_id) > 0
    error_message = "vpc_id must not be empty."
  }
}

variable "ssh_key_fingerprints" {
  description = "Fingerprints (or IDs) of SSH keys already uploaded to DigitalOcean; installed for root, which cannot log in over SSH."
  type        = list(string)

  validation {
    condition     = length(var.ssh_key_fingerprints) > 0
    error_message = "give at least one SSH key: droplets without keys get a mailed root password."
  }
}

variable "deploy_public_keys" {
  description = "Public keys (OpenSSH format) allowed to log in as the deploy user that Shipyard connects as."
  type        = list(string)

  validation {
    condition     = length(var.deploy_public_keys) > 0 && alltrue([for k in var.deploy_public_keys : can(regex("^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp[0-9]+) [A-Za-z0-9+/=]+( .*)?$", k))])
    error_message = "deploy_public_keys must hold at least one OpenSSH public key (ssh-ed25519 AAAA... comment)."
  }
}

variable "deploy_user" {
  description = "Name of the unprivileged user host-setup.sh creates (docker and shipyard groups); Shipyard connects as it."
  type        = string
  default     = "deploy"

  validation {
    condition     = can(regex("^[a-z_][a-z0-9_-]{0,31}$", var.deploy_user))
    error_message = "deploy_user must be a valid Linux user name."
  }
}

variable "ssh_source_addresses" {
  description = "CIDRs allowed to reach port 22 (your office, VPN or CI runner ranges)."
  type        = list(string)

  validation {
    condition     = length(var.ssh_source_addresses) > 0 && alltrue([for c in var.ssh_source_addresses : can(cidrhost(c, 0))])
    error_message = "ssh_source_addresses must be a non-empty list of CIDRs such as 203.0.113.0/24."
  }
}

variable "web_source_addresses" {
  description = "CIDRs allowed to reach ports 80 and 443. Set to [] when only a load balancer should reach them."
  type        = list(string)
  default     = ["0.0.0.0/0", "::/0"]

  validation {
    condition     = alltrue([for c in var.web_source_addresses : can(cidrhost(c, 0))])
    error_message = "web_source_addresses must be CIDRs such as 0.0.0.0/0."
  }
}

variable "web_source_load_balancer_uids" {
  description = "IDs of load balancers allowed to reach ports 80 and 443 (output id of the loadbalancer module)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for id in var.web_source_load_balancer_uids : length(trimspace(id)) > 0])
    error_message = "web_source_load_balancer_uids must not hold empty IDs."
  }
}

variable "reserved_ips" {
  description = "Give every droplet a reserved (static) IP that survives a rebuild; shipyard_hosts then lists those."
  type        = bool
  default     = false
}

variable "monitoring_alert_emails" {
  description = "E-mail addresses alerted on CPU > 80%, memory > 85% or disk > 90% for 5 minutes; [] for no alerts."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for e in var.monitoring_alert_emails : can(regex("^[^@ ]+@[^@ ]+\\.[^@ ]+$", e))])
    error_message = "monitoring_alert_emails must be e-mail addresses."
  }
}

variable "backups" {
  description = "Enable DigitalOcean weekly droplet backups."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Extra tags for every droplet (the cluster tag and env:<environment> are always added)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for t in var.tags : can(regex("^[A-Za-z0-9:_-]{1,255}$", t))])
    error_message = "tags may only hold letters, digits, ':', '-' and '_'."
  }
}
