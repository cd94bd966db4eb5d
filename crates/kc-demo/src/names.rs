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
fn place(area_name: &str) -> String {
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
