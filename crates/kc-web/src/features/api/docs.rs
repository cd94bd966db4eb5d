//! The API's description (OpenAPI 3.1) and its page (接口文档).
//!
//! The description is built here from one table, next to the routes it
//! describes; `tests/api_docs.rs` checks that every `/api/v1` route the
//! server answers is in it and that every operation in it is routed. The
//! typed request bodies derive their schemas (`ToSchema`), so a field added
//! to a command shows up here without anyone remembering to. Swagger UI is
//! served from the binary (`utoipa-swagger-ui`, vendored): no CDN.

use utoipa::ToSchema;
use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{ComponentsBuilder, ObjectBuilder, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityRequirement, SecurityScheme};
use utoipa::openapi::tag::TagBuilder;
use utoipa::openapi::{
    ContentBuilder, InfoBuilder, OpenApi, OpenApiBuilder, PathItem, PathsBuilder, Ref, Required,
    ResponseBuilder,
};

/// Where the page and the description are served.
pub const PAGE: &str = "/api/docs";
pub const SPEC: &str = "/api/v1/openapi.json";
/// The page's own files (script, style) under the page.
pub const PAGE_FILES: &str = "/api/docs/";

/// A parameter: name, where, required, description.
type Param = (&'static str, ParameterIn, bool, &'static str);

/// One operation of the API.
struct Op {
    method: HttpMethod,
    path: &'static str,
    tag: &'static str,
    summary: &'static str,
    description: &'static str,
    params: &'static [Param],
    /// The name of the request body's schema (a component), if any.
    body: Option<&'static str>,
    /// Status codes besides 200 and what they mean here.
    errors: &'static [(&'static str, &'static str)],
}

use ParameterIn::{Path as P, Query as Q};

const PLAN: Param = ("plan", P, true, "规划编码，如 bengbu-2023-2025");
const AS_OF: Param = ("as_of", Q, false, "统计日 YYYY-MM-DD，缺省为今天");
const SCOPE: Param = (
    "scope",
    Q,
    false,
    "范围：city（全市）或 area:地区编码、dept:部门编码",
);
const REG: Param = ("reg", P, true, "登记库编码，如 enterprises、contracts");

const OPS: &[Op] = &[
    Op {
        method: HttpMethod::Post,
        path: "/api/v1/session",
        tag: "会话",
        summary: "登录",
        description: "用户名和密码登录。成功后下发会话 Cookie kc_session，返回的 csrf 在之后改变数据的请求中放入请求头 X-CSRF-Token。",
        params: &[],
        body: Some("Login"),
        errors: &[
            ("401", "用户名或密码错误，或账号已锁定、停用"),
            ("429", "同一地址失败次数过多"),
        ],
    },
    Op {
        method: HttpMethod::Get,
        path: "/api/v1/session",
        tag: "会话",
        summary: "当前会话",
        description: "当前登录的用户、角色和 csrf，可用来检查会话是否仍有效。",
        params: &[],
        body: None,
        errors: &[("401", "未登录或会话已失效")],
    },
    Op {
        method: HttpMethod::Get,
        path: "/api/v1/plans",
        tag: "规划与目标",
        summary: "规划列表",
        description: "已载入的规划：编码、名称、城市、规划期、版本、考核目标数。",
        params: &[],
        body: None,
        errors: &[],
    },
    Op {
        method: HttpMethod::Get,
        path: "/api/v1/plans/{plan}",
        tag: "规划与目标",
        summary: "规划内容",
        description: "规范化后的规划：节点树、指标、考核目标、地区、部门和报送设置。",
        params: &[PLAN, AS_OF, SCOPE],
        body: None,
        errors: &[("404", "规划不存在")],
    },
    Op {
        method: HttpMethod::Get,
        path: "/api/v1/plans/{plan}/targets",
        tag: "规划与目标",
        summary: "各项目标的进度",
        description: "每项考核目标在统计日的当前值、完成度、预期进度、状态和预测；scope=area:X 时按该地区自己的分解目标判断。",
        params: &[PLAN, AS_OF, SCOPE],
        body: None,
        errors: &[("404", "规划不存在")],
    },
    Op {
        method: HttpMethod::Get,
        path: "/api/v1/plans/{plan}/targets/{target}",
        tag: "规划与目标",
        summary: "单项目标",
        description: "一项目标的进度，另含判断所用的数列、预期进度曲线和各年度情况。",
        params: &[PLAN, ("target", P, true, "目标编码，如 T1-1"), AS_OF, SCOPE],
        body: None,
        errors: &[("404", "规划或目标不存在")],
    },
    Op {
        method: HttpMethod::Get,
        path: "/api/v1/plans/{plan}/warnings",
        tag: "分析",
        summary: "预警清单",
        description: "红色、黄色预警及其原因；scope=area:X 时为该地区对照自己目标的预警。",
        params: &[PLAN, AS_OF, SCOPE],
        body: None,
        errors: &[("404", "规划不存在")],
    },
    Op {
        method: HttpMethod::Get,
        path: "/api/v1/plans/{plan}/ranking",
        tag: "分析",
        summary: "县区争先进位排名",
        description: "按规划的排名办法（各项指标、权重、计分方法）计算的地区排名和单项得分。",
        params: &[PLAN, AS_OF],
        body: None,
        errors: &[("404", "规划不存在")],
    },
    Op {
        method: HttpMethod::Get,
        path: "/api/v1/plans/{plan}/ranking/own",
        tag: "分析",
        summary: "按自身目标完成度排名",
        description: "各地区对照自己分解目标的完成情况排名。",
        params: &[PLAN, AS_OF],
        body: None,
        errors: &[("404", "规划不存在")],
    },
    Op {
        method: HttpMethod::Get,
        path: "/api/v1/plans/{plan}/final",
        tag: "分析",
        summary: "终期评估",
        description: "规划期满后按各目标截止日的数据判断是否完成；截止日以后的数据单列为期后数据，不用于判断。",
        params: &[PLAN],
        body: None,
        errors: &[("404", "规划不存在")],
    },
    Op {
        method: HttpMethod::Get,
        path: "/api/v1/values",
        tag: "填报与审核",
        summary: "填报数据",
        description: "每个（指标、范围、期间）当前用户能看到的最新版本；history=1 时返回一个数据的全部版本。",
        params: &[
            ("plan", Q, true, "规划编码"),
            ("indicator", Q, false, "指标代码"),
            SCOPE,
            ("period", Q, false, "期间，如 2025、2025H1、2025Q3、2025-09"),
            ("history", Q, false, "1：返回全部版本"),
        ],
        body: None,
        errors: &[("400", "缺少参数 plan"), ("404", "规划不存在")],
    },
    Op {
        method: HttpMethod::Post,
        path: "/api/v1/values",
        tag: "填报与审核",
        summary: "填报一个数据",
        description: "生成一个新版本；submit=false 存为草稿，缺省直接提交审核。返回 201 和保存的版本。",
        params: &[],
        body: Some("PostValue"),
        errors: &[
            ("201", "已保存"),
            ("409", "expected_revision 已不是最新版本，返回更新的版本"),
            ("415", "请求体不是 JSON"),
            ("422", "字段有误，逐项说明"),
        ],
    },
    Op {
        method: HttpMethod::Post,
        path: "/api/v1/values/{id}/submit",
        tag: "填报与审核",
        summary: "提交草稿",
        description: "把一个草稿版本提交审核。",
        params: &[("id", P, true, "版本编号")],
        body: None,
        errors: &[("404", "数据不存在"), ("409", "不是草稿或不是最新版本")],
    },
    Op {
        method: HttpMethod::Post,
        path: "/api/v1/values/{id}/review",
        tag: "填报与审核",
        summary: "审核",
        description: "通过或退回一个已提交的版本；退回须说明原因。",
        params: &[("id", P, true, "版本编号")],
        body: Some("ReviewValue"),
        errors: &[
            ("409", "已审核过，或不是最新版本"),
            ("422", "退回时没有填写原因"),
        ],
    },
    Op {
        method: HttpMethod::Get,
        path: "/api/v1/plans/{plan}/registries/{reg}",
        tag: "登记库",
        summary: "记录列表",
        description: "按关键词、地区分页列出记录；带 indicator 时列出计入该指标的记录（溯源）。",
        params: &[
            PLAN,
            REG,
            ("q", Q, false, "关键词"),
            ("area", Q, false, "地区编码"),
            ("page", Q, false, "页码，从 1 开始"),
            ("per_page", Q, false, "每页条数，最多 1000"),
            ("indicator", Q, false, "指标代码：列出计入该指标的记录"),
            SCOPE,
            ("from", Q, false, "起始日期 YYYY-MM-DD"),
            ("to", Q, false, "截止日期 YYYY-MM-DD"),
        ],
        body: None,
        errors: &[("404", "规划或登记库不存在")],
    },
    Op {
        method: HttpMethod::Post,
        path: "/api/v1/plans/{plan}/registries/{reg}",
        tag: "登记库",
        summary: "新增或替换一条记录",
        description: "请求体为字段代码到值的对象；按登记库的自然键新增或替换，校验规则与网页表单相同。",
        params: &[PLAN, REG],
        body: Some("Record"),
        errors: &[
            ("403", "无权修改该地区的记录"),
            ("422", "字段有误，逐项说明"),
        ],
    },
    Op {
        method: HttpMethod::Delete,
        path: "/api/v1/plans/{plan}/registries/{reg}",
        tag: "登记库",
        summary: "删除一条记录",
        description: "按自然键删除，成功返回 204。",
        params: &[PLAN, REG, ("key", Q, true, "记录的自然键")],
        body: None,
        errors: &[("204", "已删除"), ("404", "记录不存在")],
    },
    Op {
        method: HttpMethod::Get,
        path: "/api/v1/plans/{plan}/registries/{reg}/record",
        tag: "登记库",
        summary: "一条记录",
        description: "按自然键取一条记录。",
        params: &[PLAN, REG, ("key", Q, true, "记录的自然键")],
        body: None,
        errors: &[("404", "记录不存在")],
    },
    Op {
        method: HttpMethod::Get,
        path: "/api/v1/plans/{plan}/cultivation/precheck",
        tag: "企业培育",
        summary: "资质预审",
        description: "尚未持有该资质、有年度数据的企业逐条对照认定条件的结果：结论、直通条件、得分，及每个条件的符合情况、企业数字、要求和差距。按判断日期 as_of 判断证书有效期、注册年限和所用年度。",
        params: &[
            PLAN,
            (
                "rule",
                Q,
                false,
                "资质：hte（高新技术企业，缺省）、tsme、innov_sme、zjtx、little_giant",
            ),
            ("as_of", Q, false, "判断日期 YYYY-MM-DD，缺省为今天"),
            ("area", Q, false, "地区编码"),
            ("verdict", Q, false, "结论：eligible、near、incomplete、not"),
            (
                "year",
                Q,
                false,
                "使用的年度数据截至哪一年，缺省为判断日期前最近一个已结束的年度",
            ),
        ],
        body: None,
        errors: &[
            ("400", "资质、日期或年度写法不对"),
            ("404", "规划或地区不存在"),
        ],
    },
    Op {
        method: HttpMethod::Get,
        path: "/api/v1/plans/{plan}/market/search",
        tag: "科技大市场",
        summary: "检索需求、成果和专家",
        description: "返回 total 和 hits（含标题、摘要的匹配标记）。",
        params: &[
            PLAN,
            ("q", Q, false, "检索词"),
            ("kind", Q, false, "demands、offers 或 experts"),
            ("field", Q, false, "技术领域"),
            ("cluster", Q, false, "产业集群"),
            ("area", Q, false, "地区编码"),
            ("readiness", Q, false, "成熟度"),
            ("from", Q, false, "发布日期起"),
            ("to", Q, false, "发布日期止"),
            ("limit", Q, false, "最多返回条数"),
        ],
        body: None,
        errors: &[],
    },
    Op {
        method: HttpMethod::Get,
        path: "/api/v1/plans/{plan}/market/match",
        tag: "科技大市场",
        summary: "推荐对接",
        description: "为一条需求推荐成果和专家（或为一项成果推荐需求），关键词与语义相近度综合排序；每条带共同词、是否同领域、同集群和语义相近度（similarity）。semantic.enabled 为 false 时仅按关键词匹配。",
        params: &[
            PLAN,
            ("kind", Q, true, "demands 或 offers"),
            ("key", Q, true, "需求或成果编号"),
        ],
        body: None,
        errors: &[("404", "需求或成果不存在")],
    },
    Op {
        method: HttpMethod::Get,
        path: "/api/v1/plans/{plan}/market/deals",
        tag: "科技大市场",
        summary: "对接事项",
        description: "当前用户可见的对接事项及其阶段、合同条款、跟进记录。",
        params: &[PLAN],
        body: None,
        errors: &[],
    },
    Op {
        method: HttpMethod::Get,
        path: "/api/v1/plans/{plan}/market/challenges",
        tag: "科技大市场",
        summary: "揭榜挂帅榜单",
        description: "评审规则和各榜单：申请、专家组及回避、评分、揭榜单位、里程碑、验收。",
        params: &[PLAN],
        body: None,
        errors: &[],
    },
];

/// The body of `POST /api/v1/session`.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // Only its schema is used; the handler reads its own struct.
struct Login {
    /// 用户名
    username: String,
    /// 密码
    password: String,
}

fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

/// The API's description.
pub fn openapi() -> OpenApi {
    let mut paths = PathsBuilder::new();
    for o in OPS {
        let mut op = OperationBuilder::new()
            .tag(o.tag)
            .summary(Some(o.summary))
            .description(Some(o.description))
            .response(
                "200",
                ResponseBuilder::new().description("成功").content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(ObjectBuilder::new()))
                        .build(),
                ),
            );
        for (name, at, required, text) in o.params {
            op = op.parameter(
                ParameterBuilder::new()
                    .name(*name)
                    .parameter_in(at.clone())
                    .required(if *required {
                        Required::True
                    } else {
                        Required::False
                    })
                    .description(Some(*text))
                    .schema(Some(string())),
            );
        }
        if let Some(body) = o.body {
            op = op.request_body(Some(
                RequestBodyBuilder::new()
                    .required(Some(Required::True))
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name(body)))
                            .build(),
                    )
                    .build(),
            ));
        }
        for (code, text) in o.errors {
            op = op.response(*code, ResponseBuilder::new().description(*text));
        }
        if o.path != "/api/v1/session" || o.method != HttpMethod::Post {
            let mut need = SecurityRequirement::new("会话", Vec::<String>::new());
            if o.method != HttpMethod::Get {
                need = need.add("CSRF", Vec::<String>::new());
            }
            op = op.security(need);
            op = op.response(
                "401",
                ResponseBuilder::new().description("未登录或会话已失效"),
            );
        }
        if o.method != HttpMethod::Get && o.path != "/api/v1/session" {
            op = op.response(
                "403",
                ResponseBuilder::new().description("无此权限，或缺少 X-CSRF-Token 请求头"),
            );
        }
        paths = paths.path(o.path, PathItem::new(o.method.clone(), op));
    }
    let mut components = ComponentsBuilder::new()
        .schema_from::<Login>()
        .schema(
            "Record",
            ObjectBuilder::new().description(Some(
                "一条登记记录：字段代码到值（文字、数字、日期 YYYY-MM-DD 或 true/false），字段见登记库定义。",
            )),
        )
        .schema_from::<super::PostValue>()
        .schema_from::<super::ReviewValue>()
        .security_scheme(
            "会话",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new("kc_session"))),
        )
        // Writes also carry the token the sign-in returned (csrf); on the
        // page it goes in “Authorize”.
        .security_scheme(
            "CSRF",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-CSRF-Token"))),
        );
    let mut deps = Vec::new();
    super::ReviewValue::schemas(&mut deps);
    super::PostValue::schemas(&mut deps);
    components = components.schemas_from_iter(deps);
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("科创 Kechuang 接口")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "科技行动方案运行监测的数据接口。先用 POST /api/v1/session 登录取得会话 Cookie；\
                     改变数据的请求另带请求头 X-CSRF-Token（登录时返回的 csrf）。\
                     出错时返回 {\"error\": {\"code\", \"message\", \"fields\"?}}，message 为中文说明。",
                )),
        )
        .paths(paths.build())
        .components(Some(components.build()))
        .tags(Some(
            ["会话", "规划与目标", "分析", "填报与审核", "登记库", "企业培育", "科技大市场"]
                .into_iter()
                .map(|t| TagBuilder::new().name(t).build()),
        ))
        .build()
}

/// The page (Swagger UI) and the description, open without signing in:
/// they hold no data.
pub(crate) fn routes() -> axum::Router<crate::AppState> {
    axum::Router::from(utoipa_swagger_ui::SwaggerUi::new(PAGE).url(SPEC, openapi()))
}
