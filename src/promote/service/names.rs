//! Which attempt a request promotes and under which name its archive goes.

use super::PromoteRequest;
use crate::domain::AttemptId;
use crate::promote::archive::EvidenceFile;
use crate::promote::name::PromotionName;
use crate::promote::PromoteError;

impl crate::promote::Promoter {
    pub(super) async fn resolve_attempt(
        &self,
        req: &PromoteRequest,
    ) -> Result<AttemptId, PromoteError> {
        if let Some(a) = &req.attempt {
            let id =
                AttemptId::parse(a).map_err(|e| PromoteError::bad("attempt", e.to_string()))?;
            if let Some(n) = &req.nickname {
                if n != id.nickname.as_str() {
                    return Err(PromoteError::bad(
                        "nickname",
                        "does not match the attempt's nickname",
                    ));
                }
            }
            return Ok(id);
        }
        let nick = req.nickname.as_deref().ok_or_else(|| {
            PromoteError::bad("attempt", "give `attempt` (<nickname>/<ts>) or `nickname`")
        })?;
        crate::domain::Nickname::parse(nick)
            .map_err(|e| PromoteError::bad_name("nickname", e.to_string()))?;
        let latest = self.store.latest_pass(nick).await?.ok_or_else(|| {
            PromoteError::refused("not_pass", format!("nickname {nick:?} has no pass attempt"))
        })?;
        AttemptId::parse(&latest).map_err(|e| PromoteError::Internal(e.to_string()))
    }

    /// The default name for an attempt's archive: the nickname, or the dated name when the
    /// nickname's directory holds another attempt's report.
    pub(super) async fn free_name(
        &self,
        nickname: &str,
        id: &AttemptId,
        report: &[u8],
    ) -> Result<PromotionName, PromoteError> {
        let plain =
            PromotionName::for_nickname(nickname).map_err(|e| PromoteError::bad("nickname", e))?;
        let probe = [EvidenceFile {
            name: "report.json",
            bytes: report.to_vec(),
        }];
        match self.existing_evidence(&plain, &probe).await? {
            None | Some(true) => Ok(plain),
            Some(false) => PromotionName::dated(id, self.tz.to_utc(id.ts.naive()))
                .map_err(|e| PromoteError::bad("nickname", e)),
        }
    }
}
