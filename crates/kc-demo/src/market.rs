//! A labelled set for the market's matching: technical topics in the
//! vocabulary of Bengbu's clusters, with achievements offered and demands
//! written from each topic's terms (and some shared, generic words, so the
//! task is not trivial). A demand's relevant achievements are those of its
//! topic. Deterministic for a seed.

use crate::Rng;

/// A topic: name, technical field, cluster and its terms.
pub struct Topic {
    pub name: &'static str,
    pub field: &'static str,
    pub cluster: &'static str,
    pub terms: &'static [&'static str],
}

pub const TOPICS: &[Topic] = &[
    Topic {
        name: "磷酸铁锂正极",
        field: "新能源与节能",
        cluster: "新能源",
        terms: &["磷酸铁锂", "正极材料", "低温放电", "碳包覆", "压实密度"],
    },
    Topic {
        name: "钠离子电池",
        field: "新能源与节能",
        cluster: "新能源",
        terms: &["钠离子电池", "硬碳负极", "层状氧化物", "循环寿命", "电解液"],
    },
    Topic {
        name: "钙钛矿光伏",
        field: "新能源与节能",
        cluster: "新能源",
        terms: &[
            "钙钛矿",
            "叠层电池",
            "光电转换效率",
            "封装稳定性",
            "大面积制备",
        ],
    },
    Topic {
        name: "异质结电池",
        field: "新能源与节能",
        cluster: "新能源",
        terms: &["异质结", "非晶硅", "银浆", "透明导电膜", "硅片减薄"],
    },
    Topic {
        name: "氢燃料电池",
        field: "新能源与节能",
        cluster: "新能源",
        terms: &["氢燃料电池", "质子交换膜", "催化剂", "双极板", "电堆"],
    },
    Topic {
        name: "储能系统",
        field: "新能源与节能",
        cluster: "新能源",
        terms: &["储能电池", "电池管理系统", "热失控", "液冷", "能量管理"],
    },
    Topic {
        name: "超薄电子玻璃",
        field: "新材料",
        cluster: "新型显示",
        terms: &["超薄玻璃", "浮法工艺", "化学强化", "电子玻璃", "表面应力"],
    },
    Topic {
        name: "柔性显示盖板",
        field: "新材料",
        cluster: "新型显示",
        terms: &["柔性玻璃", "盖板玻璃", "折叠屏", "弯折半径", "减薄抛光"],
    },
    Topic {
        name: "触控模组",
        field: "电子信息",
        cluster: "新型显示",
        terms: &["触控模组", "贴合工艺", "光学胶", "触控芯片", "良率"],
    },
    Topic {
        name: "量子点显示",
        field: "电子信息",
        cluster: "新型显示",
        terms: &["量子点", "色域", "背光模组", "发光效率", "膜材"],
    },
    Topic {
        name: "玻璃基板",
        field: "新材料",
        cluster: "新型显示",
        terms: &["玻璃基板", "溢流下拉", "铂金通道", "平整度", "高世代线"],
    },
    Topic {
        name: "高纯石英",
        field: "新材料",
        cluster: "新型显示",
        terms: &["高纯石英", "石英砂", "酸洗提纯", "杂质含量", "坩埚"],
    },
    Topic {
        name: "压力传感器",
        field: "电子信息",
        cluster: "智能传感",
        terms: &["压力传感器", "MEMS", "压阻", "温度漂移", "标定"],
    },
    Topic {
        name: "气体传感器",
        field: "电子信息",
        cluster: "智能传感",
        terms: &["气体传感器", "金属氧化物", "选择性", "检测下限", "功耗"],
    },
    Topic {
        name: "机器视觉检测",
        field: "先进制造与自动化",
        cluster: "智能传感",
        terms: &["机器视觉", "缺陷检测", "深度学习", "工业相机", "光源"],
    },
    Topic {
        name: "工业互联网",
        field: "电子信息",
        cluster: "智能传感",
        terms: &[
            "工业互联网",
            "设备联网",
            "数据采集",
            "边缘计算",
            "预测性维护",
        ],
    },
    Topic {
        name: "聚乳酸",
        field: "生物与新医药",
        cluster: "生物化工",
        terms: &["聚乳酸", "丙交酯", "开环聚合", "生物降解", "耐热改性"],
    },
    Topic {
        name: "丁二酸发酵",
        field: "生物与新医药",
        cluster: "生物化工",
        terms: &["丁二酸", "生物发酵", "菌种选育", "发酵产率", "分离纯化"],
    },
    Topic {
        name: "合成生物",
        field: "生物与新医药",
        cluster: "生物化工",
        terms: &["合成生物", "基因编辑", "代谢途径", "底盘细胞", "高通量筛选"],
    },
    Topic {
        name: "生物基材料",
        field: "新材料",
        cluster: "生物化工",
        terms: &["生物基", "可降解塑料", "淀粉基", "共混改性", "吹膜"],
    },
    Topic {
        name: "碳化硅功率器件",
        field: "电子信息",
        cluster: "其他",
        terms: &["碳化硅", "功率模块", "封装工艺", "烧结银", "热阻"],
    },
    Topic {
        name: "石墨烯导热",
        field: "新材料",
        cluster: "其他",
        terms: &["石墨烯", "导热膜", "散热", "氧化还原", "导热系数"],
    },
    Topic {
        name: "精密减速器",
        field: "先进制造与自动化",
        cluster: "其他",
        terms: &["减速器", "谐波", "齿轮精度", "回差", "寿命测试"],
    },
    Topic {
        name: "增材制造",
        field: "先进制造与自动化",
        cluster: "其他",
        terms: &["增材制造", "3D打印", "金属粉末", "激光选区熔化", "致密度"],
    },
    Topic {
        name: "余热回收",
        field: "资源与环境",
        cluster: "其他",
        terms: &["余热回收", "换热器", "有机朗肯循环", "节能减排", "烟气"],
    },
];

/// Words any listing may use.
const GENERIC: &[&str] = &[
    "工艺优化",
    "成本降低",
    "产业化",
    "技术方案",
    "关键技术",
    "性能提升",
    "中试",
    "质量控制",
    "国产化",
    "规模化生产",
];

/// One generated listing.
pub struct Labelled {
    pub key: String,
    pub topic: usize,
    pub title: String,
    pub body: String,
    pub field: &'static str,
    pub cluster: &'static str,
}

fn pick<'a>(rng: &mut Rng, from: &'a [&'a str]) -> &'a str {
    from[(rng.unit() * from.len() as f64) as usize % from.len()]
}

/// `per_topic` achievements offered and demands for every topic.
pub fn labelled(seed: u64, per_topic: usize) -> (Vec<Labelled>, Vec<Labelled>) {
    let mut rng = Rng::new(seed);
    let mut offers = Vec::new();
    let mut demands = Vec::new();
    for (t, topic) in TOPICS.iter().enumerate() {
        for i in 0..per_topic {
            let (a, b, c) = (
                pick(&mut rng, topic.terms),
                pick(&mut rng, topic.terms),
                pick(&mut rng, topic.terms),
            );
            let g = pick(&mut rng, GENERIC);
            // One listing in five also mentions another topic's term.
            let other = if rng.unit() < 0.2 {
                let o = &TOPICS[(t + 1 + (rng.unit() * 5.0) as usize) % TOPICS.len()];
                format!("，兼顾{}", pick(&mut rng, o.terms))
            } else {
                String::new()
            };
            offers.push(Labelled {
                key: format!("CG-{t:02}-{i:02}"),
                topic: t,
                title: format!("{a}{}技术", if i % 2 == 0 { "制备" } else { "关键" }),
                body: format!("本成果围绕{a}和{b}开展研究，实现{c}的{g}{other}，已完成小试验证。"),
                field: topic.field,
                cluster: topic.cluster,
            });
            let (a, b) = (pick(&mut rng, topic.terms), pick(&mut rng, topic.terms));
            let g = pick(&mut rng, GENERIC);
            demands.push(Labelled {
                key: format!("XQ-{t:02}-{i:02}"),
                topic: t,
                title: format!("寻求{a}{g}"),
                body: format!("企业现有产线在{b}方面存在瓶颈，希望合作解决{a}相关问题{other}。"),
                field: topic.field,
                cluster: topic.cluster,
            });
        }
    }
    (offers, demands)
}
