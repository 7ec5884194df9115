locals {
  cluster_tag = "${var.name}-${var.environment}"
  env_tag     = "env:${var.environment}"
  user_data = templatefile("${path.module}/cloud-init.yaml.tftpl", {
    deploy_user        = var.deploy_user
    deploy_public_keys = var.deploy_public_keys
    host_setup         = file("${path.module}/host-setup.sh") # the sandbox runs this very file in its VMs
  })
  alerts = {
    cpu    = { type = "v1/insights/droplet/cpu", value = 80, description = "CPU above 80% for 5 minutes" }
    memory = { type = "v1/insights/droplet/memory_utilization_percent", value = 85, description = "memory above 85% for 5 minutes" }
    disk   = { type = "v1/insights/droplet/disk_utilization_percent", value = 90, description = "disk above 90% for 5 minutes" }
  }
}

# The cluster tag is what the firewall, the load balancer and the database firewall select droplets by.
resource "digitalocean_tag" "cluster" {
  name = local.cluster_tag
}

resource "digitalocean_tag" "environment" {
  name = local.env_tag
}

resource "digitalocean_droplet" "node" {
  # checkov:skip=CKV_DIO_2:ssh_keys is var.ssh_key_fingerprints, whose validation rejects an empty list
  count = var.droplet_count

  name       = "${var.name}-${count.index + 1}"
  region     = var.region
  size       = var.size
  image      = var.image
  vpc_uuid   = var.vpc_id
  ssh_keys   = var.ssh_key_fingerprints
  user_data  = local.user_data
  monitoring = true
  backups    = var.backups
  ipv6       = true
  tags       = concat([digitalocean_tag.cluster.id, digitalocean_tag.environment.id], var.tags)

  lifecycle {
    # A new image slug or cloud-init text must not silently rebuild running hosts: replace them on purpose
    # (terraform apply -replace=...) one at a time, after Shipyard has drained them.
    ignore_changes = [image, user_data]
  }
}

resource "digitalocean_reserved_ip" "node" {
  count = var.reserved_ips ? var.droplet_count : 0

  region     = var.region
  droplet_id = digitalocean_droplet.node[count.index].id
}

resource "digitalocean_firewall" "cluster" {
  name = "${local.cluster_tag}-fw"
  tags = [digitalocean_tag.cluster.id]

  inbound_rule {
    protocol         = "tcp"
    port_range       = "22"
    source_addresses = var.ssh_source_addresses
  }

  dynamic "inbound_rule" {
    for_each = toset(["80", "443"])
    content {
      protocol                  = "tcp"
      port_range                = inbound_rule.value
      source_addresses          = var.web_source_addresses
      source_load_balancer_uids = var.web_source_load_balancer_uids
    }
  }

  inbound_rule {
    protocol    = "icmp"
    source_tags = [digitalocean_tag.cluster.id]
  }

  lifecycle {
    precondition {
      condition     = length(var.web_source_addresses) + length(var.web_source_load_balancer_uids) > 0
      error_message = "ports 80/443 need a source: set web_source_addresses or web_source_load_balancer_uids."
    }
  }

  outbound_rule {
    protocol              = "tcp"
    port_range            = "1-65535"
    destination_addresses = ["0.0.0.0/0", "::/0"]
  }

  outbound_rule {
    protocol              = "udp"
    port_range            = "1-65535"
    destination_addresses = ["0.0.0.0/0", "::/0"]
  }

  outbound_rule {
    protocol              = "icmp"
    destination_addresses = ["0.0.0.0/0", "::/0"]
  }
}

resource "digitalocean_monitor_alert" "node" {
  for_each = length(var.monitoring_alert_emails) > 0 ? local.alerts : {}

  type        = each.value.type
  compare     = "GreaterThan"
  value       = each.value.value
  window      = "5m"
  enabled     = true
  tags        = [digitalocean_tag.cluster.id]
  description = "${local.cluster_tag}: ${each.value.description}"

  alerts {
    email = var.monitoring_alert_emails
  }
}
