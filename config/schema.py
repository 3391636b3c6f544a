"""OpenAPI extensions: the bearer token is documented as the OAuth2 password flow at /login,
so Swagger UI's "Authorize" button takes an email and a password, as in the original's docs."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension

import config.schema_hardening  # noqa: F401  (registers its field extension)


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "config.authentication.BearerTokenAuthentication"
    name = "OAuth2PasswordBearer"

    def get_security_definition(self, auto_schema):
        return {"type": "oauth2", "flows": {"password": {"scopes": {}, "tokenUrl": "login"}}}
