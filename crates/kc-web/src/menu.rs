//! The one navigation (主菜单) of every signed-in page.
//!
//! A role sees the same items on every page, and only the pages it may
//! open: the items are derived here from the same `Principal` predicates
//! the handlers check, so a menu link never answers 403 (the link walk in
//! `tests/links.rs` checks that for every role).

use kc_domain::Plan;
use kc_domain::auth::Principal;

/// One item of the navigation.
#[derive(Debug, Clone, Default)]
pub struct MenuItem {
    pub href: String,
    pub label: String,
    /// Carries the page's as-of date and scope (the analysis pages do).
    pub keep_query: bool,
    /// A tag beside the label (a draft plan's status).
    pub tag: &'static str,
}

fn item(href: String, label: &str) -> MenuItem {
    MenuItem {
        href,
        label: label.to_string(),
        ..MenuItem::default()
    }
}

/// The navigation of `p` on a page of `plan`, or on a page outside any
/// plan (home, password, administration) when `plan` is `None`.
pub fn menu(p: &Principal, plan: Option<&Plan>, today: chrono::NaiveDate) -> Vec<MenuItem> {
    let mut m = Vec::new();
    let Some(plan) = plan else {
        m.push(item("/".into(), "首页"));
        if p.manages_accounts() || p.manages_security() {
            m.push(item("/admin/users".into(), "账号管理"));
        }
        if p.reads_audit() {
            m.push(item("/admin/audit".into(), "审计日志"));
        }
        return m;
    };
    let base = format!("/plans/{}", plan.code);
    let at = |path: &str| format!("{base}{path}");
    if p.reads_business() {
        m.push(MenuItem {
            href: base.clone(),
            label: plan.name.clone(),
            keep_query: true,
            tag: if plan.status == kc_domain::plan::PlanStatus::Draft {
                plan.status.zh()
            } else {
                ""
            },
        });
        for (path, label) in [
            ("/dashboard", "看板"),
            ("/warnings", "预警"),
            ("/ranking", "排名"),
        ] {
            m.push(MenuItem {
                keep_query: true,
                ..item(at(path), label)
            });
        }
        m.push(item(at("/registries"), "登记库"));
        m.push(item(at("/cultivation"), "企业培育"));
    } else {
        m.push(item("/".into(), "首页"));
    }
    if p.reads_market() {
        m.push(item(at("/market/search"), "科技大市场"));
    }
    if p.reads_whitelist() && !p.reads_business() {
        m.push(item(at("/finance/whitelist"), "科技企业白名单"));
    }
    if p.reads_business() {
        m.push(item(at("/reports"), "报告"));
        if plan.period.end < today {
            m.push(item(at("/final"), "终期评估"));
        }
        m.push(item(at("/allocation"), "分解表"));
    }
    if p.reports_any() || p.reviews_any() {
        m.push(item(at("/duties"), "填报任务"));
    }
    if p.reports_any() {
        m.push(item(at("/values/new"), "填报数据"));
    }
    if p.reviews_any() {
        m.push(item(at("/review"), "审核"));
    }
    if p.reads_all() {
        m.push(item(at("/board"), "报送看板"));
    }
    if p.is_coordinator() {
        m.push(item(at("/edit"), "编辑规划"));
    }
    if p.reads_business() {
        m.push(item(at("/versions"), "规划版本"));
    }
    m
}
