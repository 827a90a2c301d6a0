//! One request in, one response body out: the table from request type to domain call.

use confab_proto::{encode_ok, Empty, ErrorCode, Request};

use crate::error::{AppError, AppResult};
use crate::state::{Actor, AppState};
use crate::{accounts, assistant, conversations, groups, media, messages, presence, social};

/// What the session should do after answering.
#[derive(Debug, PartialEq, Eq)]
pub enum After {
    Continue,
    /// Close the connection with this code once the answer is written.
    Close(u16),
}

/// Runs one authenticated request and returns the encoded `ok` frame.
pub async fn dispatch(
    state: &AppState,
    actor: &Actor,
    id: u64,
    request: Request,
) -> AppResult<(String, After)> {
    let ok = |body: &dyn erased::Body| body.encode(id);
    let out = match request {
        Request::Auth(_) => {
            return Err(AppError::new(
                ErrorCode::AlreadyAuthenticated,
                "this connection is already authenticated",
            ))
        }
        Request::Ping => ok(&Empty {}),
        Request::GetUser(r) => ok(&accounts::get_user(state, r).await?),
        Request::UpdateProfile(r) => ok(&accounts::update_profile(state, actor, r).await?),
        Request::ListDevices => ok(&accounts::list_devices(state, actor).await?),
        Request::RevokeDevice(r) => {
            accounts::revoke_device(state, actor, r.device_id).await?;
            ok(&Empty {})
        }
        Request::Logout => {
            accounts::revoke_device(state, actor, actor.device_id).await?;
            return Ok((
                ok(&Empty {}),
                After::Close(confab_proto::close::SESSION_REVOKED),
            ));
        }
        Request::Send(r) => ok(&messages::send(state, actor, r).await?),
        Request::Sync => ok(&conversations::sync(state, actor).await?),
        Request::GetConversation(r) => {
            ok(&conversations::get_conversation(state, actor, r.conversation_id).await?)
        }
        Request::History(r) => ok(&messages::history(state, actor, r).await?),
        Request::MarkRead(r) => ok(&messages::mark_read(state, actor, r).await?),
        Request::Recall(r) => ok(&messages::recall(state, actor, r).await?),
        Request::Typing(r) => {
            presence::typing(state, actor, r).await?;
            ok(&Empty {})
        }
        Request::CreateGroup(r) => ok(&conversations::create_group(state, actor, r).await?),
        Request::Members(r) => ok(&conversations::members(state, actor, r).await?),
        Request::ReadBy(r) => ok(&conversations::read_by(state, actor, r).await?),
        Request::Presence(r) => ok(&presence::query(state, actor, r).await?),
        Request::SetMuted(r) => {
            groups::set_muted(state, actor, r.conversation_id, r.muted).await?;
            ok(&Empty {})
        }
        Request::SearchUsers(r) => ok(&social::search(state, actor, r).await?),
        Request::FriendRequest(r) => {
            social::request(state, actor, r).await?;
            ok(&Empty {})
        }
        Request::FriendAccept(r) => ok(&social::accept(state, actor, r.user_id).await?),
        Request::FriendDecline(r) => {
            social::decline(state, actor, r.user_id).await?;
            ok(&Empty {})
        }
        Request::FriendDelete(r) => {
            social::delete(state, actor, r.user_id).await?;
            ok(&Empty {})
        }
        Request::Friends => ok(&social::list(state, actor).await?),
        Request::FriendRequests => ok(&social::requests(state, actor).await?),
        Request::FriendRemark(r) => {
            social::remark(state, actor, r).await?;
            ok(&Empty {})
        }
        Request::Block(r) => {
            social::block(state, actor, r.user_id, true).await?;
            ok(&Empty {})
        }
        Request::Unblock(r) => {
            social::block(state, actor, r.user_id, false).await?;
            ok(&Empty {})
        }
        Request::Blocked => ok(&social::blocked(state, actor).await?),
        Request::GetSettings => ok(&social::settings(state, actor).await?),
        Request::UpdateSettings(r) => ok(&social::update_settings(state, actor, r).await?),
        Request::GroupInfo(r) => ok(&groups::info(state, actor, r.conversation_id).await?),
        Request::GroupInvite(r) => {
            groups::invite(state, actor, r.conversation_id, r.user_ids).await?;
            ok(&Empty {})
        }
        Request::GroupJoin(r) => ok(&groups::join(state, actor, r).await?),
        Request::GroupJoinRequests(r) => {
            ok(&groups::join_requests(state, actor, r.conversation_id).await?)
        }
        Request::GroupApprove(r) => {
            groups::decide(state, actor, r.conversation_id, r.user_id, true).await?;
            ok(&Empty {})
        }
        Request::GroupReject(r) => {
            groups::decide(state, actor, r.conversation_id, r.user_id, false).await?;
            ok(&Empty {})
        }
        Request::GroupLeave(r) => {
            groups::leave(state, actor, r.conversation_id).await?;
            ok(&Empty {})
        }
        Request::GroupKick(r) => {
            groups::kick(state, actor, r.conversation_id, r.user_id).await?;
            ok(&Empty {})
        }
        Request::GroupDissolve(r) => {
            groups::dissolve(state, actor, r.conversation_id).await?;
            ok(&Empty {})
        }
        Request::GroupTransfer(r) => {
            groups::transfer(state, actor, r.conversation_id, r.user_id).await?;
            ok(&Empty {})
        }
        Request::GroupSetRole(r) => {
            groups::set_role(state, actor, r).await?;
            ok(&Empty {})
        }
        Request::GroupUpdate(r) => ok(&groups::update(state, actor, r).await?),
        Request::GroupRemark(r) => {
            groups::remark(state, actor, r).await?;
            ok(&Empty {})
        }
        Request::GroupNickname(r) => {
            groups::nickname(state, actor, r).await?;
            ok(&Empty {})
        }
        Request::GroupMute(r) => {
            groups::mute(state, actor, r).await?;
            ok(&Empty {})
        }
        Request::GroupInviteCode(r) => {
            ok(&groups::invite_code(state, actor, r.conversation_id, r.reset).await?)
        }
        Request::MediaUrl(r) => ok(&media::media_url(state, actor, r).await?),
        Request::AssistantStatus => ok(&assistant::status(state)),
        Request::AssistantStop(r) => ok(&assistant::stop(state, actor, r).await?),
        Request::AssistantSummarize(r) => ok(&assistant::summarize(state, actor, r).await?),
        Request::AssistantTranslate(r) => ok(&assistant::translate(state, actor, r).await?),
    };
    Ok((out, After::Continue))
}

mod erased {
    /// Lets the dispatch table encode any response body through one closure.
    pub trait Body {
        fn encode(&self, id: u64) -> String;
    }
    impl<T: serde::Serialize> Body for T {
        fn encode(&self, id: u64) -> String {
            super::encode_ok(id, self)
        }
    }
}
