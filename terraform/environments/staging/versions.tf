terraform {
  required_version = ">= 1.6.0"

  required_providers {
    digitalocean = {
      source  = "digitalocean/digitalocean"
      version = "~> 2.40"
    }
  }

  # State lives in a private DigitalOcean Spaces bucket (S3 API). Partial configuration: the bucket, key and
  # endpoint come from backend.hcl (copy backend.hcl.example), the Spaces keys from AWS_ACCESS_KEY_ID and
  # AWS_SECRET_ACCESS_KEY in the environment. `invoke infra.plan --env <env>` passes -backend-config=backend.hcl.
  backend "s3" {}
}

# The API token comes from DIGITALOCEAN_TOKEN in the environment, never from a file in this repository.
provider "digitalocean" {}
