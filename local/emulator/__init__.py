"""What SAM and AWS would be, on one machine: the template read as SAM reads it, the stack's
resources on moto, the Lambda runtime, API Gateway's events and SigV4, the local API server and
the loopback HTTP server the local servers share."""
