"""The platform every concern stands on: typed settings, the token from Secrets Manager, AWS
clients, logging and metrics, the error model and the HTTP answers it becomes, small parsers."""
