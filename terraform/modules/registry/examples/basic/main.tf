# The account's container registry (one per account).
module "registry" {
  source = "../.."

  name              = "example-shop"
  subscription_tier = "basic"
  region            = "fra1"
}

output "registry_endpoint" {
  description = "Images are pushed as <endpoint>/<service>:<git sha>."
  value       = module.registry.endpoint
}
