//! Request bodies for handlers: read up to the simulator's size limit and, for JSON, parsed into
//! the handler's type. Every refusal is a C1 error body: 413 for a body over the limit, 400
//! `{"code": 3, ...}` for one that is not the JSON object the call takes.

use axum::async_trait;
use axum::body::Bytes;
use axum::extract::{FromRef, FromRequest, Request};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::ApiError;

/// The largest request body the simulator reads, in bytes: extractors take it from the state.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// The request body as bytes, at most [`BodyLimit`] of them.
pub struct LimitedBody(pub Bytes);

#[async_trait]
impl<S> FromRequest<S> for LimitedBody
where
    S: Send + Sync,
    BodyLimit: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let BodyLimit(limit) = BodyLimit::from_ref(state);
        axum::body::to_bytes(request.into_body(), limit)
            .await
            .map(LimitedBody)
            .map_err(|_| ApiError::payload_too_large(limit))
    }
}

/// A JSON object body parsed into `T`; an empty body is `{}`.
pub struct JsonBody<T>(pub T);

#[async_trait]
impl<S, T> FromRequest<S> for JsonBody<T>
where
    S: Send + Sync,
    BodyLimit: FromRef<S>,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let LimitedBody(bytes) = LimitedBody::from_request(request, state).await?;
        parse_json_object(&bytes).map(JsonBody)
    }
}

fn parse_json_object<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let value: Value = if bytes.iter().all(u8::is_ascii_whitespace) {
        Value::Object(serde_json::Map::new())
    } else {
        serde_json::from_slice(bytes)
            .map_err(|err| ApiError::invalid_argument(format!("invalid JSON body: {err}")))?
    };
    if !value.is_object() {
        return Err(ApiError::invalid_argument(
            "request body must be a JSON object",
        ));
    }
    serde_json::from_value(value)
        .map_err(|err| ApiError::invalid_argument(format!("invalid request: {err}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Body {
        name: Option<String>,
    }

    async fn extract(body: &'static str, limit: usize) -> Result<Body, ApiError> {
        let request = Request::new(axum::body::Body::from(body));
        JsonBody::<Body>::from_request(request, &BodyLimit(limit))
            .await
            .map(|JsonBody(body)| body)
    }

    #[tokio::test]
    async fn objects_are_parsed_and_everything_else_is_a_c1_error() {
        assert_eq!(extract(" ", 100).await.unwrap(), Body { name: None });
        assert_eq!(
            extract(r#"{"name": "a"}"#, 100)
                .await
                .unwrap()
                .name
                .as_deref(),
            Some("a")
        );
        for (body, message) in [
            ("{", "invalid JSON body"),
            ("[1]", "request body must be a JSON object"),
            (r#"{"other": 1}"#, "invalid request: unknown field `other`"),
        ] {
            let err = extract(body, 100).await.unwrap_err();
            assert_eq!(err.status, StatusCode::BAD_REQUEST, "{body}");
            assert_eq!(err.code as i32, 3, "{body}");
            assert!(err.message.starts_with(message), "{body}: {}", err.message);
        }
        let err = extract(r#"{"name": "too long"}"#, 5).await.unwrap_err();
        assert_eq!(err.status, StatusCode::PAYLOAD_TOO_LARGE);
    }
}
