//! Who may see and change what: roles, their scopes, and the rules that
//! decide every permission. The web layer asks these functions and nothing
//! else, so the authorisation table test covers one set of rules.
//!
//! The three administrator roles (三员分立) are kept apart from each other
//! and from the business: a system administrator manages accounts and the
//! system, a security administrator grants roles and unlocks accounts, an
//! audit administrator reads the audit trail; none of them sees plan data.

use std::fmt;
use std::str::FromStr;

use crate::code::Code;
use crate::plan::Plan;
use crate::value::Scope;

/// A role, with the department or area it is limited to where it has one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// 系统管理员: creates accounts, sees the system's settings.
    SysAdmin,
    /// 安全管理员: grants and removes roles, resets passwords, locks accounts.
    SecAdmin,
    /// 审计管理员: reads and exports the audit trail.
    AuditAdmin,
    /// 规划统筹（市科技局）: sees and reviews everything, keeps registries,
    /// locks periods and sends reminders.
    Coordinator,
    /// 部门填报员: reports the indicators its department answers for.
    DeptReporter(Code),
    /// 部门审核员: reviews those.
    DeptReviewer(Code),
    /// 地区填报员: reports its area's values and keeps its area's records.
    AreaReporter(Code),
    /// 地区审核员: reviews its area's values.
    AreaReviewer(Code),
    /// 领导: reads everything, changes nothing.
    Leader,
    /// 技术经纪人: works the technology market only (search, matching, the
    /// deals they take); sees no plan data.
    Broker,
    /// 合作银行: sees the tech-enterprise whitelist and records its loans;
    /// nothing else.
    Bank,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoleError {
    #[error(
        "角色“{0}”不正确：应为 sysadmin、secadmin、auditadmin、coordinator、leader、broker、bank，或 dept_reporter:部门编码、dept_reviewer:部门编码、area_reporter:地区编码、area_reviewer:地区编码"
    )]
    Format(String),
    #[error("角色“{role}”中的{what}“{code}”不在规划中")]
    UnknownScope {
        role: String,
        what: &'static str,
        code: String,
    },
    #[error("三员分立：系统管理员、安全管理员、审计管理员不能兼任其他角色")]
    Separation,
}

impl Role {
    pub fn is_admin(&self) -> bool {
        matches!(self, Role::SysAdmin | Role::SecAdmin | Role::AuditAdmin)
    }

    /// The Chinese name of the role, with its scope's name when `plan` knows it.
    pub fn zh(&self, plan: Option<&Plan>) -> String {
        let unit = |c: &Code| {
            plan.map(|p| p.unit_name(c.as_str()).to_string())
                .unwrap_or_else(|| c.to_string())
        };
        match self {
            Role::SysAdmin => "系统管理员".into(),
            Role::SecAdmin => "安全管理员".into(),
            Role::AuditAdmin => "审计管理员".into(),
            Role::Coordinator => "规划统筹".into(),
            Role::Leader => "领导".into(),
            Role::Broker => "技术经纪人".into(),
            Role::Bank => "合作银行".into(),
            Role::DeptReporter(d) => format!("{}填报员", unit(d)),
            Role::DeptReviewer(d) => format!("{}审核员", unit(d)),
            Role::AreaReporter(a) => format!("{}填报员", unit(a)),
            Role::AreaReviewer(a) => format!("{}审核员", unit(a)),
        }
    }

    /// Every role an account can hold in `plan`: the three administrators,
    /// the plan-wide roles, then a reporter and a reviewer for each
    /// department and each area, in the plan's order.
    pub fn every(plan: &Plan) -> Vec<Role> {
        let mut v = vec![
            Role::SysAdmin,
            Role::SecAdmin,
            Role::AuditAdmin,
            Role::Coordinator,
            Role::Leader,
            Role::Broker,
            Role::Bank,
        ];
        for d in &plan.departments {
            v.push(Role::DeptReporter(d.code.clone()));
            v.push(Role::DeptReviewer(d.code.clone()));
        }
        for a in &plan.areas {
            v.push(Role::AreaReporter(a.code.clone()));
            v.push(Role::AreaReviewer(a.code.clone()));
        }
        v
    }

    /// Checks that a scoped role names a department or area of `plan`.
    pub fn check_in(&self, plan: &Plan) -> Result<(), RoleError> {
        let (what, code, ok) = match self {
            Role::DeptReporter(d) | Role::DeptReviewer(d) => {
                ("部门", d, plan.department(d.as_str()).is_some())
            }
            Role::AreaReporter(a) | Role::AreaReviewer(a) => {
                ("地区", a, plan.area(a.as_str()).is_some())
            }
            _ => return Ok(()),
        };
        if ok {
            Ok(())
        } else {
            Err(RoleError::UnknownScope {
                role: self.to_string(),
                what,
                code: code.to_string(),
            })
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Role::SysAdmin => f.write_str("sysadmin"),
            Role::SecAdmin => f.write_str("secadmin"),
            Role::AuditAdmin => f.write_str("auditadmin"),
            Role::Coordinator => f.write_str("coordinator"),
            Role::Leader => f.write_str("leader"),
            Role::Broker => f.write_str("broker"),
            Role::Bank => f.write_str("bank"),
            Role::DeptReporter(c) => write!(f, "dept_reporter:{c}"),
            Role::DeptReviewer(c) => write!(f, "dept_reviewer:{c}"),
            Role::AreaReporter(c) => write!(f, "area_reporter:{c}"),
            Role::AreaReviewer(c) => write!(f, "area_reviewer:{c}"),
        }
    }
}

impl FromStr for Role {
    type Err = RoleError;

    fn from_str(s: &str) -> Result<Role, RoleError> {
        let s = s.trim();
        let bad = || RoleError::Format(s.to_string());
        let (kind, scope) = match s.split_once(':') {
            Some((k, c)) => (k, Some(Code::parse(c.trim()).map_err(|_| bad())?)),
            None => (s, None),
        };
        Ok(match (kind, scope) {
            ("sysadmin", None) => Role::SysAdmin,
            ("secadmin", None) => Role::SecAdmin,
            ("auditadmin", None) => Role::AuditAdmin,
            ("coordinator", None) => Role::Coordinator,
            ("leader", None) => Role::Leader,
            ("broker", None) => Role::Broker,
            ("bank", None) => Role::Bank,
            ("dept_reporter", Some(c)) => Role::DeptReporter(c),
            ("dept_reviewer", Some(c)) => Role::DeptReviewer(c),
            ("area_reporter", Some(c)) => Role::AreaReporter(c),
            ("area_reviewer", Some(c)) => Role::AreaReviewer(c),
            _ => return Err(bad()),
        })
    }
}

/// Checks a whole set of roles for one account: an administrator role
/// stands alone.
pub fn check_separation(roles: &[Role]) -> Result<(), RoleError> {
    if roles.len() > 1 && roles.iter().any(Role::is_admin) {
        return Err(RoleError::Separation);
    }
    Ok(())
}

/// A signed-in user and the roles they hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub username: String,
    pub display_name: String,
    pub roles: Vec<Role>,
}

/// A value's key as far as permissions go: which indicator, for whom.
#[derive(Debug, Clone, Copy)]
pub struct ValueKey<'a> {
    pub indicator: &'a str,
    pub scope: &'a Scope,
}

impl Principal {
    pub fn has(&self, role: &Role) -> bool {
        self.roles.contains(role)
    }

    fn department_of<'p>(plan: &'p Plan, indicator: &str) -> Option<&'p Code> {
        plan.indicator(indicator)
            .and_then(|i| i.department.as_ref())
    }

    /// May read plan pages, targets, registries and published values.
    pub fn reads_business(&self) -> bool {
        self.roles
            .iter()
            .any(|r| !r.is_admin() && !matches!(r, Role::Broker | Role::Bank))
    }

    /// May see the tech-enterprise whitelist (plan readers and banks).
    pub fn reads_whitelist(&self) -> bool {
        self.reads_business() || self.has(&Role::Bank)
    }

    /// May record loans to whitelisted firms: banks and the bureau.
    pub fn records_loans(&self) -> bool {
        self.has(&Role::Bank) || self.is_coordinator()
    }

    /// May use the technology market: search, matching, deals and
    /// challenges (what they may change is decided below).
    pub fn reads_market(&self) -> bool {
        self.roles.iter().any(|r| !r.is_admin() && *r != Role::Bank)
    }

    /// May manage the market of `area` (empty: the city market): publish
    /// challenges, moderate submissions, move any deal there. The bureau
    /// manages every market; an area reporter its own sub-market.
    pub fn manages_market(&self, area: &str) -> bool {
        self.is_coordinator()
            || (!area.is_empty()
                && self
                    .roles
                    .iter()
                    .any(|r| matches!(r, Role::AreaReporter(c) if c.as_str() == area)))
    }

    /// May take a match as a deal in the market of `area`.
    pub fn takes_deals(&self, area: &str) -> bool {
        self.has(&Role::Broker) || self.manages_market(area)
    }

    /// May see a market case (deal or challenge) of `area` opened by
    /// `owner`: the bureau and leaders see all, an area's roles their own
    /// sub-market, a broker the deals they took and every challenge.
    pub fn sees_case(&self, area: &str, owner: &str, is_challenge: bool) -> bool {
        self.reads_all()
            || self.username == owner
            || (is_challenge && self.reads_market())
            || self.roles.iter().any(|r| {
                matches!(r, Role::AreaReporter(c) | Role::AreaReviewer(c) if c.as_str() == area)
            })
    }

    /// May log contacts on and move a deal of `area` taken by `taken_by`:
    /// its market's managers, and the broker who took it.
    pub fn works_deal(&self, area: &str, taken_by: &str) -> bool {
        self.manages_market(area) || (self.has(&Role::Broker) && self.username == taken_by)
    }

    /// Reads everything, including every unit's unpublished values.
    pub fn reads_all(&self) -> bool {
        self.has(&Role::Coordinator) || self.has(&Role::Leader)
    }

    pub fn is_coordinator(&self) -> bool {
        self.has(&Role::Coordinator)
    }

    /// May type in (or correct) the value `key`.
    pub fn can_report(&self, plan: &Plan, key: ValueKey<'_>) -> bool {
        if self.is_coordinator() {
            return true;
        }
        let dept = Self::department_of(plan, key.indicator);
        self.roles.iter().any(|r| match (r, key.scope) {
            (Role::AreaReporter(a), Scope::Area(s)) => a == s,
            (Role::DeptReporter(d), Scope::Department(s)) => d == s,
            (Role::DeptReporter(d), Scope::City) => dept == Some(d),
            _ => false,
        })
    }

    /// May approve or return the value `key`.
    pub fn can_review(&self, plan: &Plan, key: ValueKey<'_>) -> bool {
        if self.is_coordinator() {
            return true;
        }
        let dept = Self::department_of(plan, key.indicator);
        self.roles.iter().any(|r| match (r, key.scope) {
            (Role::AreaReviewer(a), Scope::Area(s)) => a == s,
            (Role::DeptReviewer(d), Scope::Department(s)) => d == s,
            (Role::DeptReviewer(d), Scope::City) => dept == Some(d),
            _ => false,
        })
    }

    /// May see the value `key` before it is approved (and its evidence).
    pub fn sees_unpublished(&self, plan: &Plan, key: ValueKey<'_>) -> bool {
        self.reads_all() || self.can_report(plan, key) || self.can_review(plan, key)
    }

    /// May review anything at all (shows the review queue).
    pub fn reviews_any(&self) -> bool {
        self.roles.iter().any(|r| {
            matches!(
                r,
                Role::Coordinator | Role::AreaReviewer(_) | Role::DeptReviewer(_)
            )
        })
    }

    /// May report anything at all (shows the entry form).
    pub fn reports_any(&self) -> bool {
        self.roles.iter().any(|r| {
            matches!(
                r,
                Role::Coordinator | Role::AreaReporter(_) | Role::DeptReporter(_)
            )
        })
    }

    /// May create, change or delete a registry record counted for `area`
    /// (`None`: outside the city or no area).
    pub fn can_edit_record(&self, area: Option<&str>) -> bool {
        self.is_coordinator()
            || area.is_some_and(|a| {
                self.roles
                    .iter()
                    .any(|r| matches!(r, Role::AreaReporter(c) if c.as_str() == a))
            })
    }

    /// May save, delete or import records of `registry` by hand (each
    /// record's area is checked beside). Loans are the banks' own: a bank
    /// records them through its loan form, which checks the whitelist, and
    /// only the coordinator corrects them in the registry.
    pub fn edits_registry(&self, registry: &str) -> bool {
        match registry {
            "loans" => self.is_coordinator(),
            _ => self.edits_records(),
        }
    }

    /// May edit some registry records (shows the buttons).
    pub fn edits_records(&self) -> bool {
        self.is_coordinator()
            || self
                .roles
                .iter()
                .any(|r| matches!(r, Role::AreaReporter(_)))
    }

    /// The units (departments and areas) whose duties this user carries or
    /// reviews.
    pub fn units(&self) -> Vec<&Code> {
        let mut out: Vec<&Code> = Vec::new();
        for r in &self.roles {
            if let Role::DeptReporter(c)
            | Role::DeptReviewer(c)
            | Role::AreaReporter(c)
            | Role::AreaReviewer(c) = r
                && !out.contains(&c)
            {
                out.push(c);
            }
        }
        out
    }

    pub fn manages_accounts(&self) -> bool {
        self.has(&Role::SysAdmin)
    }

    pub fn manages_security(&self) -> bool {
        self.has(&Role::SecAdmin)
    }

    pub fn reads_audit(&self) -> bool {
        self.has(&Role::AuditAdmin)
    }
}

/// The password rules (configurable; the defaults follow common MLPS
/// practice).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordPolicy {
    pub min_len: usize,
    /// How many of the four classes (lower, upper, digit, symbol) must appear.
    pub min_classes: usize,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        PasswordPolicy {
            min_len: 10,
            min_classes: 3,
        }
    }
}

impl PasswordPolicy {
    /// Every rule the password breaks, in Chinese; empty when it passes.
    pub fn check(&self, username: &str, password: &str) -> Vec<String> {
        let mut out = Vec::new();
        let len = password.chars().count();
        if len < self.min_len {
            out.push(format!("密码至少 {} 位，当前 {len} 位", self.min_len));
        }
        if len > 128 {
            out.push("密码不能超过 128 位".to_string());
        }
        let classes = [
            password.chars().any(|c| c.is_ascii_lowercase()),
            password.chars().any(|c| c.is_ascii_uppercase()),
            password.chars().any(|c| c.is_ascii_digit()),
            password.chars().any(|c| !c.is_ascii_alphanumeric()),
        ]
        .iter()
        .filter(|b| **b)
        .count();
        if classes < self.min_classes {
            out.push(format!(
                "密码须包含小写字母、大写字母、数字、符号中的至少 {} 类，当前 {classes} 类",
                self.min_classes
            ));
        }
        if !username.is_empty() && password.to_lowercase().contains(&username.to_lowercase()) {
            out.push("密码不能包含用户名".to_string());
        }
        out
    }
}

/// Checks a user name: 2–32 characters of ASCII letters, digits, `_`, `-`
/// or `.`, so it is safe in logs, URLs and e-mail headers.
pub fn check_username(name: &str) -> Result<(), String> {
    let ok = (2..=32).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "用户名“{name}”不正确：应为 2–32 位英文字母、数字、下划线、连字符或点"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_and_reject_bad_text() {
        for s in [
            "sysadmin",
            "secadmin",
            "auditadmin",
            "coordinator",
            "leader",
            "dept_reporter:kjj",
            "dept_reviewer:kjj",
            "area_reporter:longzihu",
            "area_reviewer:longzihu",
        ] {
            let r: Role = s.parse().unwrap();
            assert_eq!(r.to_string(), s);
        }
        for s in [
            "",
            "admin",
            "leader:x",
            "area_reporter",
            "area_reporter:",
            "dept_reporter:坏",
        ] {
            assert!(s.parse::<Role>().is_err(), "{s}");
        }
    }

    #[test]
    fn admin_roles_stand_alone() {
        assert!(check_separation(&[Role::SysAdmin]).is_ok());
        assert!(check_separation(&[Role::Coordinator, Role::Leader]).is_ok());
        assert_eq!(
            check_separation(&[Role::SysAdmin, Role::AuditAdmin]),
            Err(RoleError::Separation)
        );
        assert_eq!(
            check_separation(&[Role::SecAdmin, Role::Leader]),
            Err(RoleError::Separation)
        );
    }

    #[test]
    fn password_policy() {
        let p = PasswordPolicy::default();
        assert!(p.check("alice", "Kechuang#2025").is_empty());
        assert_eq!(p.check("alice", "short1A").len(), 1);
        assert_eq!(p.check("alice", "alllowercaseletters").len(), 1);
        assert!(
            p.check("alice", "Alice#12345")
                .iter()
                .any(|m| m.contains("用户名"))
        );
    }

    #[test]
    fn usernames() {
        assert!(check_username("kjj_reporter").is_ok());
        assert!(check_username("a").is_err());
        assert!(check_username("有中文").is_err());
        assert!(check_username("a b").is_err());
    }
}
