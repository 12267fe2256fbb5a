"""Demo archive documents: short inspection and visit reports in the six UN languages.

Each is imported as a file through the same action as any upload, so the demo
archive is searchable, mentions states, chemicals, symbols and resolutions,
and is committed to the log. Classifications vary, so signing in as different
demo accounts shows the policy at work in search.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, timedelta

from veritrail.access import OPERATOR
from veritrail.actions.archive import do_import_document
from veritrail.reference import states
from veritrail.regimes.model import Classification
from veritrail.store.context import Context

_REPORTS: dict[str, str] = {
    "en": (
        "Report of the inspection at {site}, {state}\n\n"
        "Date of the inspection: {day:%d %B %Y}.\n"
        "The inspection team verified the declared production of Schedule 2 chemicals at the "
        "plant site, including thiodiglycol (CAS 111-48-8), and found the records consistent "
        "with the annual declaration. The national authority of {state} reported on its "
        "implementation of Security Council resolution 1540 (2004) in document S/2020/1197.\n"
    ),
    "fr": (
        "Rapport d'inspection du site {site}, {state}\n\n"
        "L'équipe d'inspection a vérifié la production déclarée de produits chimiques du "
        "tableau 2, dont le thiodiglycol (CAS 111-48-8), et a trouvé les registres conformes à "
        "la déclaration annuelle. L'autorité nationale a rendu compte de la mise en œuvre de "
        "la résolution 1540 (2004) du Conseil de sécurité.\n"
    ),
    "es": (
        "Informe de la inspección en {site}, {state}\n\n"
        "El equipo de inspección verificó la producción declarada de sustancias químicas de la "
        "Lista 2, incluido el tiodiglicol (CAS 111-48-8), y comprobó que los registros "
        "concuerdan con la declaración anual. La autoridad nacional informó sobre la aplicación "
        "de la resolución 1540 (2004) del Consejo de Seguridad.\n"
    ),
    "ru": (
        "Доклад об инспекции на объекте {site}, {state}\n\n"
        "Инспекционная группа проверила заявленное производство химикатов Списка 2, включая "
        "тиодигликоль (CAS 111-48-8), и установила, что учетные записи соответствуют годовому "
        "объявлению. Национальный орган сообщил об осуществлении резолюции 1540 (2004) Совета "
        "Безопасности.\n"
    ),
    "ar": (
        "تقرير التفتيش في الموقع {site}، {state}\n\n"
        "تحقق فريق التفتيش من الإنتاج المعلن للمواد الكيميائية المدرجة في الجدول 2، بما في ذلك "
        "الثيوديغليكول (CAS 111-48-8)، ووجد أن السجلات متسقة مع الإعلان السنوي. وأفادت السلطة "
        "الوطنية بتنفيذ قرار مجلس الأمن 1540 (2004).\n"
    ),
    "zh": (
        "关于{state}{site}视察的报告\n\n"
        "视察组核查了该工厂区申报的附表2化学品生产情况，包括硫二甘醇（CAS 111-48-8），"
        "认定记录与年度宣布一致。国家主管部门报告了安全理事会第1540(2004)号决议的执行情况。\n"
    ),
}

_LEVELS = (
    Classification.PUBLIC,
    Classification.PUBLIC,
    Classification.RESTRICTED,
    Classification.PROTECTED,
)


def load_demo_archive(
    ctx: Context,
    *,
    rng: random.Random,
    sites: dict[str, list[str]],
    today: date,
    tick: Callable[[str, int, int], None],
    count: int = 36,
) -> int:
    """Import ``count`` demo reports; how many were imported."""
    codes = sorted(s for s in sites if sites[s])
    languages = sorted(_REPORTS)
    imported = 0
    for n in range(count):
        code = rng.choice(codes)
        state = states.by_alpha3(code)
        language = languages[n % len(languages)]
        site = rng.choice(sites[code])
        day = today - timedelta(days=rng.randint(30, 3 * 365))
        text = _REPORTS[language].format(
            site=site, state=state.name(language) if state else code, day=day
        )
        do_import_document(
            ctx,
            actor=OPERATOR,
            data=text.encode("utf-8"),
            filename=f"inspection-{code.lower()}-{n + 1:02d}-{language}.txt",
            classification=rng.choice(_LEVELS),
            owner_state=code,
            regimes=["cwc"],
            integrate=False,
        )
        imported += 1
        tick("archive", n + 1, count)
    return imported


__all__ = ["load_demo_archive"]
