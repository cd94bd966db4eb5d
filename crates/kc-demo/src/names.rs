//! Names for demo records that read like the real thing: firms named by
//! place, brand and trade (蚌埠瑞华光电科技有限公司), people by family and
//! given name. Each name follows from a number alone, so the demo's random
//! streams — and every figure drawn from them — stay as they were.

const BRAND: [&str; 20] = [
    "华", "瑞", "恒", "信", "源", "通", "达", "科", "创", "联", "博", "泰", "宏", "安", "润", "德",
    "盛", "嘉", "明", "远",
];

/// The trades a cluster's firms are named by.
fn trades(cluster: &str) -> [&'static str; 4] {
    match cluster {
        "新能源" => ["新能源", "光伏", "储能", "电池"],
        "新型显示" => ["光电", "显示", "玻璃", "光学"],
        "智能传感" => ["传感", "智能", "微电子", "仪器"],
        "生物化工" => ["生物", "化工", "新材料", "医药"],
        _ => ["机械", "电子", "信息", "环保"],
    }
}

const FORM: [&str; 5] = [
    "科技有限公司",
    "技术有限公司",
    "股份有限公司",
    "有限公司",
    "科技股份有限公司",
];

/// The short place name a firm is registered under: 怀远, 龙子湖; a zone's
/// firms carry the city's name.
pub fn place(area_name: &str) -> String {
    if area_name.contains("开发区") || area_name.contains("新区") {
        return "蚌埠".into();
    }
    let s = area_name
        .trim_end_matches('区')
        .trim_end_matches('县')
        .trim_end_matches('市');
    if s.chars().count() < 2 {
        area_name.to_string()
    } else {
        s.to_string()
    }
}

/// The `i`-th firm's name: distinct for the first 7,600 numbers whatever
/// the place (380 brand pairs × 4 trades × 5 forms).
pub fn firm(i: usize, area_name: &str, cluster: &str) -> String {
    let p = i % 380;
    let a = p % 20;
    // The second brand character is another one (1 to 19 places on).
    let b = (a + 1 + p / 20) % 20;
    let trade = trades(cluster)[(i / 380) % 4];
    let form = FORM[(i / 1520) % 5];
    format!("{}{}{}{trade}{form}", place(area_name), BRAND[a], BRAND[b])
}

/// The `i`-th pair of brand characters (distinct for the first 380), for
/// service firms named by trade rather than by cluster.
pub fn brand_pair(i: usize) -> String {
    let p = i % 380;
    let a = p % 20;
    format!("{}{}", BRAND[a], BRAND[(a + 1 + p / 20) % 20])
}

const FAMILY: [&str; 20] = [
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高", "林",
    "何", "郭", "马", "罗",
];
const GIVEN: [&str; 20] = [
    "建华", "志强", "海燕", "立新", "晓东", "春梅", "国庆", "文博", "子涵", "雪峰", "明远", "静怡",
    "振宇", "丽华", "思源", "宏伟", "佳琪", "永刚", "慧敏", "天翔",
];

/// The `i`-th person's name (distinct for the first 400).
pub fn person(i: usize) -> String {
    format!("{}{}", FAMILY[i % 20], GIVEN[(i / 20 + i * 7) % 20])
}

/// An expert's title.
pub fn title(i: usize) -> &'static str {
    ["教授", "研究员", "教授级高级工程师", "副教授", "高级工程师"][i % 5]
}

/// A firm's name without its legal form (蚌埠瑞华光电), the way platforms,
/// teams and products hosted by the firm are named after it.
pub fn short(firm_name: &str) -> &str {
    for form in [
        "科技股份有限公司",
        "股份有限公司",
        "科技有限公司",
        "技术有限公司",
        "有限公司",
    ] {
        if let Some(s) = firm_name.strip_suffix(form) {
            return s;
        }
    }
    firm_name
}

/// Universities in the city, and research institutes in it; the demo's
/// contracts, achievements and experts come from these and from the ones
/// outside the city below. They are organisations, never enterprises.
pub const LOCAL_UNIVERSITIES: [&str; 4] = [
    "蚌埠学院",
    "安徽财经大学",
    "蚌埠医学院",
    "安徽电子信息职业技术学院",
];
pub const LOCAL_INSTITUTES: [&str; 3] = [
    "中建材玻璃新材料研究总院",
    "中国电子科技集团公司第四十一研究所",
    "蚌埠市农业科学研究院",
];
pub const OUTSIDE_UNIVERSITIES: [&str; 6] = [
    "中国科学技术大学",
    "合肥工业大学",
    "安徽理工大学",
    "安徽大学",
    "东南大学",
    "南京工业大学",
];
pub const OUTSIDE_INSTITUTES: [&str; 3] = [
    "中国科学院合肥物质科学研究院",
    "安徽省农业科学院",
    "合肥综合性国家科学中心能源研究院",
];

/// Whether a name is one of the demo's universities or institutes.
pub fn is_organisation(name: &str) -> bool {
    LOCAL_UNIVERSITIES
        .iter()
        .chain(&OUTSIDE_UNIVERSITIES)
        .chain(&LOCAL_INSTITUTES)
        .chain(&OUTSIDE_INSTITUTES)
        .any(|o| *o == name)
        || name.ends_with("大学")
        || name.ends_with("学院")
        || name.ends_with("研究院")
        || name.ends_with("研究所")
}

/// Syllables townships and villages are named from; pairs of them read
/// like the place names of the Huai river plain (淮光镇, 双桥村).
const PLACE_A: [&str; 24] = [
    "淮", "龙", "双", "新", "马", "白", "曹", "朱", "孙", "涂", "荆", "沫", "长", "小", "大", "东",
    "西", "南", "北", "王", "刘", "李", "张", "陈",
];
const PLACE_B: [&str; 24] = [
    "集", "桥", "庄", "圩", "湖", "岗", "店", "楼", "塘", "湾", "营", "寨", "河", "山", "岭", "铺",
    "台", "坝", "口", "沟", "园", "林", "圈", "坊",
];

/// The `i`-th township of an area (distinct for the first 576).
pub fn township(i: usize) -> String {
    let n = i * 7 + 3;
    format!(
        "{}{}{}",
        PLACE_A[n % 24],
        PLACE_B[(n / 24 + n) % 24],
        if i % 4 == 3 { "乡" } else { "镇" }
    )
}

/// The `i`-th village of a township (distinct for the first 576).
pub fn village(i: usize) -> String {
    format!(
        "{}{}村",
        PLACE_A[(i * 5 + 1) % 24],
        PLACE_B[(i + i / 24) % 24]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_as_names_and_do_not_repeat() {
        let mut seen = std::collections::HashSet::new();
        for i in 0..7600 {
            let n = firm(i, "怀远县", "新能源");
            assert!(!n.chars().any(|c| c.is_ascii_digit()), "{n}");
            assert!(seen.insert(n.clone()), "{n} twice");
        }
        assert_eq!(firm(0, "怀远县", "新能源"), "怀远华瑞新能源科技有限公司");
        assert!(firm(5, "蚌埠高新技术产业开发区", "新型显示").starts_with("蚌埠"));
        let people: std::collections::HashSet<String> = (0..400).map(person).collect();
        assert_eq!(people.len(), 400);
    }
}
