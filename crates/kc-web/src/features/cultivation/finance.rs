//! The tech-enterprise whitelist (科技企业白名单) banks lend against, and
//! their loans. A bank account sees this page and nothing else; plan
//! readers see it too, with every firm's reasons on its pre-check page.

use std::collections::HashMap;

use crate::extract::FormBody;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use kc_app::cultivation::{self, Registers};
use kc_domain::registry;
use kc_io::Cell;

use crate::auth::Session;
use crate::error::AppError;
use crate::pages::Opt;
use crate::registries::Input;
use crate::workflow::PlanHead;
use crate::{AppState, Params};

pub struct WhiteView {
    pub code: String,
    pub name: String,
    pub area: String,
    pub cluster: String,
    pub held: String,
    pub reasons: String,
    pub loans: usize,
    pub lent: String,
}

pub struct LoanView {
    pub number: String,
    pub firm: String,
    pub bank: String,
    pub product: String,
    pub amount: String,
    pub lent_on: String,
}

#[derive(Template)]
#[template(path = "whitelist.html")]
pub struct WhitelistPage {
    pub nav: PlanHead,
    pub areas: Vec<Opt>,
    pub rule: String,
    pub version: String,
    pub rows: Vec<WhiteView>,
    pub loans: Vec<LoanView>,
    /// The loans a page at a time (their own page number, `loans_page`).
    pub loans_pager: crate::paging::Pager,
    pub inputs: Vec<Input>,
    pub message: String,
    pub may_record: bool,
    pub query: String,
    pub pager: crate::paging::Pager,
    pub text: String,
}

async fn plan_of(
    st: &AppState,
    sess: &Session,
    code: &str,
) -> Result<(kc_domain::Plan, PlanHead), AppError> {
    sess.require(sess.principal.reads_whitelist(), "查看科技企业白名单")?;
    crate::workflow::plan_head(st, sess, code).await
}

/// A bank sees its own loans (by its account's name); the bureau all.
fn loan_visible(sess: &Session, bank: &str) -> bool {
    sess.principal.reads_business() || bank == sess.principal.display_name
}

fn loan_inputs(
    plan: &kc_domain::Plan,
    f: &HashMap<String, String>,
    errors: &[registry::CellError],
) -> Vec<Input> {
    crate::registries::inputs(
        &registry::LOANS,
        Some(&[
            "credit_code",
            "number",
            "product",
            "amount",
            "lent_on",
            "due_on",
        ]),
        plan,
        kc_app::registries::catalogue(),
        f,
        errors,
    )
}

async fn page(
    st: &AppState,
    sess: &Session,
    code: &str,
    q: &Params,
    form: Option<(&HashMap<String, String>, &[registry::CellError], String)>,
) -> Result<Response, AppError> {
    let (plan, nav) = plan_of(st, sess, code).await?;
    let (_, engine) = st.plan_and_engine(code).await?;
    let e = engine.read().await;
    let on = e.as_of.unwrap_or(st.today()).min(st.today());
    let regs = Registers::gather(&e, on, cultivation::figures_year(on));
    let area = crate::cultivation::area_param(&plan, q)?;
    let book = kc_planfile::default_rules();
    let cat = kc_app::registries::catalogue();
    let mut loans: Vec<LoanView> = Vec::new();
    let mut per_firm: HashMap<String, (usize, f64)> = HashMap::new();
    let ldef = &registry::LOANS;
    for row in e.search("loans", "", None) {
        let Some(r) = e.record("loans", row) else {
            continue;
        };
        let bank = r.get(ldef, "bank").display();
        let credit = r.get(ldef, "credit_code").display();
        let amount = r.get(ldef, "amount").as_f64().unwrap_or(0.0);
        let p = per_firm.entry(credit.clone()).or_default();
        if loan_visible(sess, &bank) {
            p.0 += 1;
            p.1 += amount;
            loans.push(LoanView {
                number: r.get(ldef, "number").display(),
                firm: regs
                    .firm(&credit)
                    .map_or(credit.clone(), |f| f.name.clone()),
                bank,
                product: r.get(ldef, "product").display(),
                amount: crate::view::num(amount, 2),
                lent_on: r.get(ldef, "lent_on").display(),
            });
        }
    }
    drop(e);
    loans.sort_by(|a, b| b.lent_on.cmp(&a.lent_on));
    let text = q.get("q").map(|s| s.trim().to_string()).unwrap_or_default();
    let rows: Vec<WhiteView> = cultivation::whitelist(&regs, book)
        .into_iter()
        .filter(|r| r.on_list)
        .filter(|r| area.as_deref().is_none_or(|a| r.firm.area == a))
        .filter(|r| crate::paging::matches(&text, &[&r.firm.name, &r.firm.credit_code]))
        .map(|r| {
            let (n, sum) = per_firm
                .get(&r.firm.credit_code)
                .copied()
                .unwrap_or_default();
            WhiteView {
                code: r.firm.credit_code.clone(),
                name: r.firm.name.clone(),
                area: plan.unit_name(&r.firm.area).to_string(),
                cluster: r.firm.cluster.clone(),
                held: r
                    .held
                    .iter()
                    .map(|k| cat.find(k).map_or(k.clone(), |x| x.name.clone()))
                    .collect::<Vec<_>>()
                    .join("、"),
                reasons: r
                    .reasons
                    .iter()
                    .map(|x| format!("{}：{}", x.label, x.detail))
                    .collect::<Vec<_>>()
                    .join("；"),
                loans: n,
                lent: if n == 0 {
                    String::new()
                } else {
                    crate::view::num(sum, 2)
                },
            }
        })
        .collect();
    if q.get("format").map(String::as_str) == Some("xlsx") {
        let table: Vec<Vec<Cell>> = rows
            .iter()
            .map(|r| {
                vec![
                    Cell::Text(r.code.clone()),
                    Cell::Text(r.name.clone()),
                    Cell::Text(r.area.clone()),
                    Cell::Text(r.cluster.clone()),
                    Cell::Text(r.held.clone()),
                    Cell::Text(r.reasons.clone()),
                    Cell::Number(r.loans as f64),
                    r.lent
                        .replace(',', "")
                        .parse()
                        .map_or(Cell::Empty, Cell::Number),
                ]
            })
            .collect();
        return crate::registries::table_download(
            st,
            sess,
            "finance:whitelist",
            "科技企业白名单",
            &[
                "统一社会信用代码",
                "企业名称",
                "地区",
                "产业集群",
                "有效资质",
                "入选依据",
                "贷款笔数",
                "贷款金额（万元）",
            ],
            &table,
        )
        .await;
    }
    let w = &book.whitelist;
    let (mut values, errors, message) = match form {
        Some((f, e, m)) => (f.clone(), e.to_vec(), m),
        None => (HashMap::new(), Vec::new(), String::new()),
    };
    // "登记贷款" on a firm's row opens the form with the firm filled in.
    if let Some(firm) = q.get("loan_for").filter(|c| !c.trim().is_empty())
        && !values.contains_key("credit_code")
    {
        values.insert("credit_code".into(), firm.trim().to_string());
    }
    let (rows, pager) = crate::paging::paginate(
        rows,
        q,
        &format!("/plans/{code}/finance/whitelist"),
        "whitelist",
    );
    let (loans, loans_pager) = crate::paging::paginate_as(
        loans,
        q,
        &format!("/plans/{code}/finance/whitelist"),
        "loans",
        "loans_page",
    );
    let status = if message.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let page = WhitelistPage {
        nav,
        areas: crate::cultivation::area_options(&plan, area.as_deref()),
        rule: format!(
            "{}{}持有下列资质之一（有效期内）：{}",
            if w.require_rd_activity {
                "有研发活动；"
            } else {
                ""
            },
            if w.require_institution_or_ip {
                format!("有研发机构或知识产权不少于 {} 件；", w.min_ip)
            } else {
                String::new()
            },
            w.qualifications
                .iter()
                .map(|k| cat.find(k).map_or(k.clone(), |x| x.name.clone()))
                .collect::<Vec<_>>()
                .join("、")
        ),
        version: book.version.clone(),
        rows,
        loans,
        loans_pager,
        inputs: loan_inputs(&plan, &values, &errors),
        message,
        may_record: sess.principal.records_loans(),
        query: format!(
            "area={}&q={}&",
            area.unwrap_or_default(),
            crate::paging::encode(&text)
        ),
        pager,
        text,
    };
    Ok((status, Html(page.render()?)).into_response())
}

/// `GET /plans/{plan}/finance/whitelist?area=&format=xlsx`
pub async fn whitelist(
    State(st): State<AppState>,
    sess: Session,
    Path(code): Path<String>,
    q: Params,
) -> Result<Response, AppError> {
    page(&st, &sess, &code, &q, None).await
}

/// A loan as the bank's form gives it.
#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct LoanForm {
    credit_code: String,
    number: String,
    product: String,
    amount: String,
    lent_on: String,
    due_on: String,
    /// Only the coordinator names a bank; a bank's own name is its account's.
    bank: String,
}

impl LoanForm {
    fn fields(self) -> HashMap<&'static str, String> {
        HashMap::from([
            ("credit_code", self.credit_code),
            ("number", self.number),
            ("product", self.product),
            ("amount", self.amount),
            ("lent_on", self.lent_on),
            ("due_on", self.due_on),
            ("bank", self.bank),
        ])
    }
}

/// `POST /plans/{plan}/finance/loans`: a bank records a loan to a firm on
/// the whitelist; the bank is the account's name.
pub async fn record_loan(
    State(st): State<AppState>,
    sess: Session,
    Path(code): Path<String>,
    FormBody(f): FormBody<LoanForm>,
) -> Result<Response, AppError> {
    let (plan, _) = plan_of(&st, &sess, &code).await?;
    sess.require(sess.principal.records_loans(), "登记科技贷款")?;
    let f = f.fields();
    let cells: HashMap<&str, &str> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (_, engine) = st.plan_and_engine(&code).await?;
    let mut e = engine.write().await;
    let mut errors = match kc_app::cultivation::record_loan(
        &st.store,
        &mut e,
        &plan,
        &sess.caller(),
        &cells,
        st.today(),
    )
    .await
    {
        Ok(_) => {
            drop(e);
            return Ok(
                Redirect::to(&format!("/plans/{code}/finance/whitelist#loans")).into_response(),
            );
        }
        Err(kc_app::registries::RecordCmdError::Invalid(errs)) => errs,
        Err(other) => return Err(other.into()),
    };
    drop(e);
    errors.retain(|x| x.field != "bank");
    page(
        &st,
        &sess,
        &code,
        &axum::extract::Query(HashMap::new()),
        Some((
            &f.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
            &errors,
            "请按提示修改后重新提交".into(),
        )),
    )
    .await
}

/// This feature's routes; `crate::router` merges them behind the session guard.
pub(crate) fn routes() -> axum::Router<crate::AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/plans/{plan}/finance/whitelist", get(self::whitelist))
        .route("/plans/{plan}/finance/loans", post(self::record_loan))
}
