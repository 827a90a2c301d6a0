//! `/api/v1/integration/…`: the HTTP integration API. Every route but `openapi.json` takes
//! `Authorization: Bearer cfk_…` and needs one scope; errors are `{"error": WireError}` with
//! the status of the error code. [`ApiDoc`] is the OpenAPI description, generated from these
//! handlers and the `confab_proto::integration` types.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use confab_proto::http::{ErrorBody, LoginResponse};
use confab_proto::integration::{
    AddMembers, ApiKeyList, CreateApiKey, CreateGroupRequest, CreateWebhook, CreatedApiKey,
    CreatedWebhook, DeliveriesPage, ImportUser, ImportUserResponse, IntegrationUser, IssueToken,
    Scope, SendMessage, UpdateUser, WebhookList,
};
use confab_proto::{
    ConversationId, CreateGroup, ErrorCode, HistoryRequest, HistoryResponse, MembersRequest,
    MembersResponse, SendResponse, SyncResponse, UserId, WireError,
};
use serde::Deserialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoParams, Modify, OpenApi};

use super::keys::{self, AuthedKey};
use crate::http::{bearer, parse, HttpError};
use crate::state::AppState;

const BASE: &str = "/api/v1/integration";

pub fn router() -> Router<AppState> {
    let r = |p: &str| format!("{BASE}{p}");
    Router::new()
        .route(&r("/openapi.json"), get(openapi_json_handler))
        .route(&r("/keys"), post(create_key).get(list_keys))
        .route(&r("/keys/{key_id}"), delete(revoke_key))
        .route(&r("/users"), post(import_user))
        .route(&r("/users/{user_id}"), get(get_user).patch(update_user))
        .route(&r("/users/{user_id}/tokens"), post(issue_token))
        .route(&r("/users/{user_id}/conversations"), get(conversations))
        .route(&r("/messages"), post(send_message))
        .route(
            &r("/conversations/{conversation_id}/messages"),
            get(history),
        )
        .route(&r("/groups"), post(create_group))
        .route(
            &r("/groups/{conversation_id}/members"),
            post(add_members).get(members),
        )
        .route(
            &r("/groups/{conversation_id}/members/{user_id}"),
            delete(remove_member),
        )
        .route(&r("/webhooks"), post(create_webhook).get(list_webhooks))
        .route(&r("/webhooks/{webhook_id}"), delete(delete_webhook))
        .route(&r("/webhooks/{webhook_id}/deliveries"), get(deliveries))
}

/// The OpenAPI document, as served and as checked into `docs/openapi.json`.
pub fn openapi_json() -> String {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).expect("the OpenAPI document serializes");
    inline_integers(&mut doc);
    serde_json::to_string_pretty(&doc).expect("JSON serializes")
}

/// The protocol's id and time aliases (`UserId`, `Seq`, `Millis`, …) come out as references to
/// a schema named `i64`; write them as the plain integers they are.
fn inline_integers(doc: &mut serde_json::Value) {
    use serde_json::{json, Value};
    fn walk(v: &mut Value) {
        match v {
            Value::Object(map) => {
                if map.get("$ref").and_then(Value::as_str) == Some("#/components/schemas/i64") {
                    *v = json!({"type": "integer", "format": "int64"});
                    return;
                }
                map.values_mut().for_each(walk);
            }
            Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    if let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(serde_json::Value::as_object_mut)
    {
        schemas.remove("i64");
    }
    walk(doc);
}

async fn openapi_json_handler() -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        openapi_json(),
    )
        .into_response()
}

type ApiResult = Result<Response, HttpError>;

/// Authenticates the request's key, applies its rate limit and checks `scope`.
async fn auth(state: &AppState, headers: &HeaderMap, scope: Scope) -> Result<AuthedKey, HttpError> {
    let key = keys::authenticate(state, bearer(headers).as_deref())
        .await
        .map_err(HttpError)?;
    key.require(scope)?;
    Ok(key)
}

fn path<T>(p: Result<Path<T>, PathRejection>) -> Result<T, HttpError> {
    p.map(|Path(v)| v).map_err(|e| {
        HttpError(WireError::new(
            ErrorCode::BadRequest,
            format!("invalid path: {}", e.body_text()),
        ))
    })
}

fn query<T>(q: Result<Query<T>, QueryRejection>) -> Result<T, HttpError> {
    q.map(|Query(v)| v).map_err(|e| {
        HttpError(WireError::new(
            ErrorCode::BadRequest,
            format!("invalid query: {}", e.body_text()),
        ))
    })
}

/// The request body, or a typed error when it is too large (413 `frame_too_large`) or cannot
/// be read.
fn read_body(body: Result<Bytes, BytesRejection>) -> Result<Bytes, HttpError> {
    body.map_err(|e| {
        let code = if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ErrorCode::FrameTooLarge
        } else {
            ErrorCode::BadRequest
        };
        HttpError(WireError::new(
            code,
            format!("request body: {}", e.body_text()),
        ))
    })
}

fn created<T: serde::Serialize>(body: T) -> Response {
    (StatusCode::CREATED, Json(body)).into_response()
}

fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

/// The `admin` scope: create an API key. The secret is in this answer only.
#[utoipa::path(post, path = "/api/v1/integration/keys", tag = "keys",
    request_body = CreateApiKey,
    responses(
        (status = 201, description = "Created; `secret` is shown only now", body = CreatedApiKey),
        (status = "4XX", description = "Error", body = ErrorBody),
    ),
    security(("api_key" = [])))]
async fn create_key(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult {
    auth(&state, &headers, Scope::Admin).await?;
    let req: CreateApiKey = parse(&read_body(body)?)?;
    Ok(created(keys::create(state.store.as_ref(), req).await?))
}

/// The `admin` scope: every API key, revoked ones too; never their secrets.
#[utoipa::path(get, path = "/api/v1/integration/keys", tag = "keys",
    responses(
        (status = 200, description = "The keys", body = ApiKeyList),
        (status = "4XX", description = "Error", body = ErrorBody),
    ),
    security(("api_key" = [])))]
async fn list_keys(State(state): State<AppState>, headers: HeaderMap) -> ApiResult {
    auth(&state, &headers, Scope::Admin).await?;
    let keys = keys::list(state.store.as_ref()).await?;
    Ok(Json(ApiKeyList { keys }).into_response())
}

/// The `admin` scope: revoke an API key; it is refused from then on.
#[utoipa::path(delete, path = "/api/v1/integration/keys/{key_id}", tag = "keys",
    params(("key_id" = i64, Path, description = "The key's id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = "4XX", description = "Error (`not_found` for an unknown or already revoked key)", body = ErrorBody),
    ),
    security(("api_key" = [])))]
async fn revoke_key(
    State(state): State<AppState>,
    headers: HeaderMap,
    id: Result<Path<i64>, PathRejection>,
) -> ApiResult {
    auth(&state, &headers, Scope::Admin).await?;
    keys::revoke(state.store.as_ref(), path(id)?).await?;
    Ok(no_content())
}

/// The `users` scope: create a user or bot, or return the one already imported with this
/// `external_id` (idempotent import).
#[utoipa::path(post, path = "/api/v1/integration/users", tag = "users",
    request_body = ImportUser,
    responses(
        (status = 201, description = "Created", body = ImportUserResponse),
        (status = 200, description = "Already imported with this external_id; unchanged", body = ImportUserResponse),
        (status = "4XX", description = "Error (`username_taken`, `invalid_username`, `weak_password`, …)", body = ErrorBody),
    ),
    security(("api_key" = [])))]
async fn import_user(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult {
    auth(&state, &headers, Scope::Users).await?;
    let req: ImportUser = parse(&read_body(body)?)?;
    let answer = super::import_user(&state, req).await?;
    Ok(if answer.created {
        created(answer)
    } else {
        Json(answer).into_response()
    })
}

/// The `users` scope: a user with their external id, bot marker and disabled state.
#[utoipa::path(get, path = "/api/v1/integration/users/{user_id}", tag = "users",
    params(("user_id" = i64, Path, description = "Confab user id")),
    responses(
        (status = 200, description = "The user", body = IntegrationUser),
        (status = "4XX", description = "Error", body = ErrorBody),
    ),
    security(("api_key" = [])))]
async fn get_user(
    State(state): State<AppState>,
    headers: HeaderMap,
    id: Result<Path<UserId>, PathRejection>,
) -> ApiResult {
    auth(&state, &headers, Scope::Users).await?;
    Ok(Json(super::get_user(&state, path(id)?).await?).into_response())
}

/// The `users` scope: update a profile, disable a user (revoking every session) or enable
/// them again.
#[utoipa::path(patch, path = "/api/v1/integration/users/{user_id}", tag = "users",
    params(("user_id" = i64, Path, description = "Confab user id")),
    request_body = UpdateUser,
    responses(
        (status = 200, description = "The updated user", body = IntegrationUser),
        (status = "4XX", description = "Error", body = ErrorBody),
    ),
    security(("api_key" = [])))]
async fn update_user(
    State(state): State<AppState>,
    headers: HeaderMap,
    id: Result<Path<UserId>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult {
    auth(&state, &headers, Scope::Users).await?;
    let id = path(id)?;
    let req: UpdateUser = parse(&read_body(body)?)?;
    Ok(Json(super::update_user(&state, id, req).await?).into_response())
}

/// The `users` scope: a login token for the user (single sign-on from the business system),
/// the same answer as `POST /api/v1/login`. Refused for a disabled user.
#[utoipa::path(post, path = "/api/v1/integration/users/{user_id}/tokens", tag = "users",
    params(("user_id" = i64, Path, description = "Confab user id")),
    request_body = IssueToken,
    responses(
        (status = 201, description = "A new session", body = LoginResponse),
        (status = "4XX", description = "Error (`forbidden` when the user is disabled)", body = ErrorBody),
    ),
    security(("api_key" = [])))]
async fn issue_token(
    State(state): State<AppState>,
    headers: HeaderMap,
    id: Result<Path<UserId>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult {
    auth(&state, &headers, Scope::Users).await?;
    let id = path(id)?;
    let body = read_body(body)?;
    let req: IssueToken = if body.is_empty() {
        IssueToken::default()
    } else {
        parse(&body)?
    };
    Ok(created(super::issue_token(&state, id, req).await?))
}

/// The `messages` scope: the user's conversations with read state and the newest message, as
/// the WebSocket `sync` answers.
#[utoipa::path(get, path = "/api/v1/integration/users/{user_id}/conversations", tag = "messages",
    params(("user_id" = i64, Path, description = "Confab user id")),
    responses(
        (status = 200, description = "Newest activity first", body = SyncResponse),
        (status = "4XX", description = "Error", body = ErrorBody),
    ),
    security(("api_key" = [])))]
async fn conversations(
    State(state): State<AppState>,
    headers: HeaderMap,
    id: Result<Path<UserId>, PathRejection>,
) -> ApiResult {
    auth(&state, &headers, Scope::Messages).await?;
    let actor = super::actor_for(&state, path(id)?).await?;
    Ok(Json(crate::conversations::sync(&state, &actor).await?).into_response())
}

/// The `messages` scope: send a text message as a user, a bot, or (without `sender`) the
/// system bot. Idempotent by `(sender, idempotency_key)`.
#[utoipa::path(post, path = "/api/v1/integration/messages", tag = "messages",
    request_body = SendMessage,
    responses(
        (status = 201, description = "Stored", body = SendResponse),
        (status = 200, description = "A retry: the original message, `duplicate: true`", body = SendResponse),
        (status = "4XX", description = "Error (`not_member`, `not_allowed`, `too_long`, …)", body = ErrorBody),
    ),
    security(("api_key" = [])))]
async fn send_message(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult {
    auth(&state, &headers, Scope::Messages).await?;
    let req: SendMessage = parse(&read_body(body)?)?;
    let sent = super::send(&state, req).await?;
    Ok(if sent.duplicate {
        Json(sent).into_response()
    } else {
        created(sent)
    })
}

/// A page of history as `user_id` (a member, current or past) sees it.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryParams {
    /// The member whose view is read.
    pub user_id: UserId,
    /// Only seqs greater than this (page forward).
    pub after: Option<i64>,
    /// Only seqs less than this (page backward); without `after`, the newest page.
    pub before: Option<i64>,
    /// At most this many (default 50, capped by the server's page limit).
    pub limit: Option<u32>,
}

/// The `messages` scope: a conversation's history, paged by seq exactly like the WebSocket
/// `history` request.
#[utoipa::path(get, path = "/api/v1/integration/conversations/{conversation_id}/messages", tag = "messages",
    params(("conversation_id" = i64, Path, description = "Conversation id"), HistoryParams),
    responses(
        (status = 200, description = "Messages in seq order", body = HistoryResponse),
        (status = "4XX", description = "Error (`not_member` when the user never belonged)", body = ErrorBody),
    ),
    security(("api_key" = [])))]
async fn history(
    State(state): State<AppState>,
    headers: HeaderMap,
    id: Result<Path<ConversationId>, PathRejection>,
    q: Result<Query<HistoryParams>, QueryRejection>,
) -> ApiResult {
    auth(&state, &headers, Scope::Messages).await?;
    let id = path(id)?;
    let q = query(q)?;
    let actor = super::actor_for(&state, q.user_id).await?;
    let req = HistoryRequest {
        conversation_id: id,
        after: q.after,
        before: q.before,
        limit: q.limit,
    };
    Ok(Json(crate::messages::history(&state, &actor, req).await?).into_response())
}

/// The `groups` scope: create a group owned by `owner`, with the same rules as when they
/// create it themselves.
#[utoipa::path(post, path = "/api/v1/integration/groups", tag = "groups",
    request_body = CreateGroupRequest,
    responses(
        (status = 201, description = "The group as its owner sees it", body = confab_proto::ConversationSummary),
        (status = "4XX", description = "Error", body = ErrorBody),
    ),
    security(("api_key" = [])))]
async fn create_group(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult {
    auth(&state, &headers, Scope::Groups).await?;
    let req: CreateGroupRequest = parse(&read_body(body)?)?;
    let actor = super::actor_for(&state, req.owner).await?;
    let group = crate::conversations::create_group(
        &state,
        &actor,
        CreateGroup {
            name: req.name,
            members: req.members,
        },
    )
    .await?;
    Ok(created(group))
}

/// The `groups` scope: add members, as `as_user` (default the owner) whose role must allow it.
#[utoipa::path(post, path = "/api/v1/integration/groups/{conversation_id}/members", tag = "groups",
    params(("conversation_id" = i64, Path, description = "Group id")),
    request_body = AddMembers,
    responses(
        (status = 204, description = "Added"),
        (status = "4XX", description = "Error (`already_exists`, `group_full`, `forbidden`, …)", body = ErrorBody),
    ),
    security(("api_key" = [])))]
async fn add_members(
    State(state): State<AppState>,
    headers: HeaderMap,
    id: Result<Path<ConversationId>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult {
    auth(&state, &headers, Scope::Groups).await?;
    let id = path(id)?;
    let req: AddMembers = parse(&read_body(body)?)?;
    let actor = super::group_actor(&state, id, req.as_user).await?;
    crate::groups::invite(&state, &actor, id, req.user_ids).await?;
    Ok(no_content())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MembersParams {
    /// Members with user ids above this (the last id of the previous page).
    pub after_user: Option<UserId>,
    /// At most this many (default 100, at most 500).
    pub limit: Option<u32>,
}

/// The `groups` scope: a page of current members, by user id.
#[utoipa::path(get, path = "/api/v1/integration/groups/{conversation_id}/members", tag = "groups",
    params(("conversation_id" = i64, Path, description = "Group id"), MembersParams),
    responses(
        (status = 200, description = "Members", body = MembersResponse),
        (status = "4XX", description = "Error", body = ErrorBody),
    ),
    security(("api_key" = [])))]
async fn members(
    State(state): State<AppState>,
    headers: HeaderMap,
    id: Result<Path<ConversationId>, PathRejection>,
    q: Result<Query<MembersParams>, QueryRejection>,
) -> ApiResult {
    auth(&state, &headers, Scope::Groups).await?;
    let id = path(id)?;
    let q = query(q)?;
    let actor = super::group_actor(&state, id, None).await?;
    let req = MembersRequest {
        conversation_id: id,
        after_user: q.after_user,
        limit: q.limit,
    };
    Ok(Json(crate::conversations::members(&state, &actor, req).await?).into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ActingUser {
    /// Who removes them (default the group's owner). When it is the member themselves, they
    /// leave.
    pub as_user: Option<UserId>,
}

/// The `groups` scope: remove a member (kick), or let them leave when `as_user` is that member.
#[utoipa::path(delete, path = "/api/v1/integration/groups/{conversation_id}/members/{user_id}", tag = "groups",
    params(
        ("conversation_id" = i64, Path, description = "Group id"),
        ("user_id" = i64, Path, description = "The member"),
        ActingUser,
    ),
    responses(
        (status = 204, description = "Removed"),
        (status = "4XX", description = "Error", body = ErrorBody),
    ),
    security(("api_key" = [])))]
async fn remove_member(
    State(state): State<AppState>,
    headers: HeaderMap,
    ids: Result<Path<(ConversationId, UserId)>, PathRejection>,
    q: Result<Query<ActingUser>, QueryRejection>,
) -> ApiResult {
    auth(&state, &headers, Scope::Groups).await?;
    let (id, user) = path(ids)?;
    let q = query(q)?;
    let actor = super::group_actor(&state, id, q.as_user).await?;
    if actor.user_id == user {
        crate::groups::leave(&state, &actor, id).await?;
    } else {
        crate::groups::kick(&state, &actor, id, user).await?;
    }
    Ok(no_content())
}

/// The `webhooks` scope: register an endpoint for some event types.
#[utoipa::path(post, path = "/api/v1/integration/webhooks", tag = "webhooks",
    request_body = CreateWebhook,
    responses(
        (status = 201, description = "Registered; `secret` is shown only now", body = CreatedWebhook),
        (status = "4XX", description = "Error", body = ErrorBody),
    ),
    security(("api_key" = [])))]
async fn create_webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult {
    auth(&state, &headers, Scope::Webhooks).await?;
    let req: CreateWebhook = parse(&read_body(body)?)?;
    Ok(created(super::create_webhook(&state, req).await?))
}

/// The `webhooks` scope: every registered webhook (without secrets).
#[utoipa::path(get, path = "/api/v1/integration/webhooks", tag = "webhooks",
    responses(
        (status = 200, description = "The webhooks", body = WebhookList),
        (status = "4XX", description = "Error", body = ErrorBody),
    ),
    security(("api_key" = [])))]
async fn list_webhooks(State(state): State<AppState>, headers: HeaderMap) -> ApiResult {
    auth(&state, &headers, Scope::Webhooks).await?;
    let webhooks = state
        .store
        .webhooks()
        .await
        .map_err(crate::error::AppError::from)?
        .into_iter()
        .map(|h| h.info)
        .collect();
    Ok(Json(WebhookList { webhooks }).into_response())
}

/// The `webhooks` scope: delete a webhook and its delivery log.
#[utoipa::path(delete, path = "/api/v1/integration/webhooks/{webhook_id}", tag = "webhooks",
    params(("webhook_id" = i64, Path, description = "Webhook id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = "4XX", description = "Error", body = ErrorBody),
    ),
    security(("api_key" = [])))]
async fn delete_webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    id: Result<Path<i64>, PathRejection>,
) -> ApiResult {
    auth(&state, &headers, Scope::Webhooks).await?;
    super::delete_webhook(&state, path(id)?).await?;
    Ok(no_content())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveriesParams {
    /// Deliveries with ids below this (the last id of the previous page).
    pub before: Option<i64>,
    /// At most this many (default 50, at most 200).
    pub limit: Option<u32>,
}

/// The `webhooks` scope: the delivery log, newest first, with each delivery's status,
/// attempts and last error.
#[utoipa::path(get, path = "/api/v1/integration/webhooks/{webhook_id}/deliveries", tag = "webhooks",
    params(("webhook_id" = i64, Path, description = "Webhook id"), DeliveriesParams),
    responses(
        (status = 200, description = "Newest first", body = DeliveriesPage),
        (status = "4XX", description = "Error", body = ErrorBody),
    ),
    security(("api_key" = [])))]
async fn deliveries(
    State(state): State<AppState>,
    headers: HeaderMap,
    id: Result<Path<i64>, PathRejection>,
    q: Result<Query<DeliveriesParams>, QueryRejection>,
) -> ApiResult {
    auth(&state, &headers, Scope::Webhooks).await?;
    let id = path(id)?;
    let q = query(q)?;
    let limit = q.limit.unwrap_or(50).clamp(1, 200);
    let (deliveries, has_more) = state
        .store
        .deliveries(id, q.before, limit)
        .await
        .map_err(crate::error::AppError::from)?;
    Ok(Json(DeliveriesPage {
        deliveries,
        has_more,
    })
    .into_response())
}

struct BearerKey;

impl Modify for BearerKey {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("cfk_<prefix>_<secret>")
                    .description(Some(
                        "A server API key (`confab-server admin api-key create`).",
                    ))
                    .build(),
            ),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Confab integration API",
        version = "1",
        description = "HTTP API for business systems: users and bots, single sign-on, messages, groups and webhooks. Authenticate with `Authorization: Bearer <API key>`. Errors are `{\"error\": {\"code\", \"message\"}}` with a stable code. See docs/integration.md.",
        license(name = "Apache-2.0"),
    ),
    paths(
        create_key, list_keys, revoke_key,
        import_user, get_user, update_user, issue_token,
        conversations, send_message, history,
        create_group, add_members, members, remove_member,
        create_webhook, list_webhooks, delete_webhook, deliveries,
    ),
    components(schemas(confab_proto::integration::WebhookEvent)),
    modifiers(&BearerKey),
    tags(
        (name = "keys", description = "API keys (scope `admin`)"),
        (name = "users", description = "Users and bots (scope `users`)"),
        (name = "messages", description = "Messages and history (scope `messages`)"),
        (name = "groups", description = "Groups and members (scope `groups`)"),
        (name = "webhooks", description = "Webhooks and their delivery log (scope `webhooks`)"),
    )
)]
pub struct ApiDoc;
