//! Bearer tokens: the admin token (a secret Spin variable) for creating
//! events, and the hold and booking tokens clients present as
//! `Authorization: Bearer <token>`.

use spin_sdk::variables;

use crate::request::Request;
use crate::response::Problem;
use crate::token::same_secret;

/// The Spin variable holding the admin token. Empty or unset disables the
/// admin endpoints: no default admin token ships enabled.
pub const ADMIN_TOKEN_VARIABLE: &str = "admin_token";

/// The bearer token of the request, if it sent one.
pub fn bearer(req: &Request) -> Option<String> {
    let value = req.header("authorization")?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
}

/// 401 when a request carries no bearer token.
pub fn unauthorized(what: &str) -> Problem {
    Problem::new(
        401,
        "unauthorized",
        "Authentication required",
        format!("send the {what} as Authorization: Bearer <token>"),
    )
    .with_header("www-authenticate", "Bearer")
}

/// 403 when the token is wrong; the answer never says which part was wrong.
pub fn forbidden() -> Problem {
    Problem::new(
        403,
        "forbidden",
        "Forbidden",
        "the token does not grant this".to_owned(),
    )
}

/// Lets the request through only with the configured admin token.
pub fn require_admin(req: &Request) -> Result<(), Problem> {
    let given = bearer(req).ok_or_else(|| unauthorized("admin token"))?;
    let expected = variables::get(ADMIN_TOKEN_VARIABLE).unwrap_or_default();
    if expected.is_empty() {
        return Err(Problem::new(
            403,
            "admin_disabled",
            "Admin endpoints disabled",
            "no admin token is configured; set the admin_token variable".to_owned(),
        ));
    }
    if same_secret(&given, &expected) {
        Ok(())
    } else {
        Err(forbidden())
    }
}
