variable "enabled" {
  description = "Create the load balancer. Without one, DNS points at the droplets' (reserved) IPs."
  type        = bool
  default     = true
}

variable "name" {
  description = "Name of the load balancer."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,61}[a-z0-9]$", var.name))
    error_message = "name must be 3-63 lowercase letters, digits or '-', starting with a letter."
  }
}

variable "region" {
  description = "Region slug; must match the droplets' region."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{3}[0-9]$", var.region))
    error_message = "region must be a region slug such as fra1, ams3 or nyc3."
  }
}

variable "vpc_id" {
  description = "VPC the load balancer joins (output vpc_id of the network module)."
  type        = string

  validation {
    condition     = length(var.vpc_id) > 0
    error_message = "vpc_id must not be empty."
  }
}

variable "droplet_tag" {
  description = "Tag of the droplets to balance across (output tag of the droplet-cluster module)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9:_-]{1,255}$", var.droplet_tag))
    error_message = "droplet_tag must be a DigitalOcean tag name."
  }
}

variable "target_port" {
  description = "Port the Shipyard proxy listens on, on every droplet."
  type        = number
  default     = 80

  validation {
    condition     = var.target_port >= 1 && var.target_port <= 65535
    error_message = "target_port must be a TCP port (1-65535)."
  }
}

variable "health_check_path" {
  description = "HTTP path probed on every droplet; a droplet is taken out of rotation while it fails."
  type        = string
  default     = "/api/health" # the public service (web) through the proxy: it must answer there

  validation {
    condition     = startswith(var.health_check_path, "/")
    error_message = "health_check_path must start with '/'."
  }
}

variable "certificate_name" {
  description = "Name of a DigitalOcean certificate for HTTPS on 443 (HTTP then redirects to HTTPS); null for HTTP only."
  type        = string
  default     = null

  validation {
    condition     = var.certificate_name == null || can(regex("^[A-Za-z0-9._-]{1,255}$", var.certificate_name))
    error_message = "certificate_name must be null or the name of a certificate uploaded to DigitalOcean."
  }
}

variable "size_unit" {
  description = "Number of load balancer nodes (1-100); each adds capacity."
  type        = number
  default     = 1

  validation {
    condition     = var.size_unit >= 1 && var.size_unit <= 100 && floor(var.size_unit) == var.size_unit
    error_message = "size_unit must be a whole number between 1 and 100."
  }
}
