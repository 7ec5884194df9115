locals {
  https = var.certificate_name != null
}

# Balances across every droplet carrying the cluster tag, so droplets added by Terraform join by themselves.
# The health check hits the same path Shipyard's blue-green swap gates on, so a host whose new colour is not
# healthy is taken out of rotation by the load balancer too.
resource "digitalocean_loadbalancer" "this" {
  count = var.enabled ? 1 : 0

  name        = var.name
  region      = var.region
  vpc_uuid    = var.vpc_id
  droplet_tag = var.droplet_tag
  size_unit   = var.size_unit

  redirect_http_to_https   = local.https
  enable_backend_keepalive = true

  forwarding_rule {
    entry_protocol  = "http"
    entry_port      = 80
    target_protocol = "http"
    target_port     = var.target_port
  }

  dynamic "forwarding_rule" {
    for_each = local.https ? [var.certificate_name] : []
    content {
      entry_protocol   = "https"
      entry_port       = 443
      target_protocol  = "http"
      target_port      = var.target_port
      certificate_name = forwarding_rule.value
    }
  }

  healthcheck {
    protocol                 = "http"
    port                     = var.target_port
    path                     = var.health_check_path
    check_interval_seconds   = 5
    response_timeout_seconds = 3
    unhealthy_threshold      = 2
    healthy_threshold        = 2
  }
}
