# Images are pushed as <service>:<git sha> by CI; Shipyard keeps the newest registry.retain of them per
# service. Registry credentials are not created here: CI logs in with its own DigitalOcean token
# (doctl registry login / docker login with the token), so no credential ever lands in the Terraform state.
resource "digitalocean_container_registry" "this" {
  count = var.enabled ? 1 : 0

  name                   = var.name
  subscription_tier_slug = var.subscription_tier
  region                 = var.region
}
