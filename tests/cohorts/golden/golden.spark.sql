WITH
-- pseudonyms: one row per pseudonym (BEN_NIR_PSA, BEN_RNG_GEM) → person BEN_IDT_ANO; fictitious NIR dropped
pseudonyms AS (
  SELECT
    b.BEN_NIR_PSA,
    b.BEN_RNG_GEM,
    COALESCE(b.BEN_IDT_ANO, CONCAT(b.BEN_NIR_PSA, CAST(b.BEN_RNG_GEM AS STRING))) AS person_id,
    b.BEN_SEX_COD AS sex,
    CAST(b.BEN_NAI_ANN AS INT) AS birth_year,
    NULLIF(CAST(b.BEN_DCD_DTE AS DATE), CAST('1600-01-01' AS DATE)) AS death_date
  FROM IR_BEN_R AS b
  WHERE
    b.BEN_CDI_NIR IS NULL OR b.BEN_CDI_NIR IN ('00', '03', '04')
),
-- nir_person: DCIR linkage: pseudonym and rank → person
nir_person AS (
  SELECT
    BEN_NIR_PSA,
    BEN_RNG_GEM,
    MIN(person_id) AS person_id
  FROM pseudonyms
  GROUP BY
    BEN_NIR_PSA,
    BEN_RNG_GEM
),
-- persons: one row per person: sex, birth year, death date (1600-01-01 = none)
persons AS (
  SELECT
    person_id,
    MIN(sex) AS sex,
    MIN(birth_year) AS birth_year,
    MIN(death_date) AS death_date
  FROM pseudonyms
  GROUP BY
    person_id
),
-- events_1: drug_dispensing in code list drugs
events_1 AS (
  SELECT
    person_id,
    event_date,
    code,
    'drug_dispensing' AS source
  FROM (
    SELECT
      m.person_id,
      CAST(p.EXE_SOI_DTD AS DATE) AS event_date,
      d.PHA_PRS_C13 AS code,
      SUM(d.PHA_ACT_QSN) AS quantity,
      COUNT(*) AS records
    FROM ER_PHA_F AS d
    JOIN ER_PRS_F AS p
      ON d.FLX_DIS_DTD = p.FLX_DIS_DTD
      AND d.FLX_TRT_DTD = p.FLX_TRT_DTD
      AND d.FLX_EMT_TYP = p.FLX_EMT_TYP
      AND d.FLX_EMT_NUM = p.FLX_EMT_NUM
      AND d.FLX_EMT_ORD = p.FLX_EMT_ORD
      AND d.ORG_CLE_NUM = p.ORG_CLE_NUM
      AND d.DCT_ORD_NUM = p.DCT_ORD_NUM
      AND d.PRS_ORD_NUM = p.PRS_ORD_NUM
      AND d.REM_TYP_AFF = p.REM_TYP_AFF
    JOIN nir_person AS m
      ON m.BEN_NIR_PSA = p.BEN_NIR_PSA AND m.BEN_RNG_GEM = p.BEN_RNG_GEM
    WHERE
      (
        (
          (
            (
              (
                d.PHA_PRS_C13 IN ('3400000000017')
                AND p.FLX_DIS_DTD BETWEEN CAST('2009-01-01' AS DATE) AND CAST('2022-06-30' AS DATE)
              )
              AND CAST(p.EXE_SOI_DTD AS DATE) BETWEEN CAST('2009-01-03' AS DATE) AND CAST('2021-12-31' AS DATE)
            )
            AND (
              p.DPN_QLF IS NULL OR NOT p.DPN_QLF IN (71)
            )
          )
          AND (
            p.PRS_DPN_QLP IS NULL OR NOT p.PRS_DPN_QLP IN (71)
          )
        )
        AND (
          p.BSE_PRS_NAT IS NULL OR NOT p.BSE_PRS_NAT IN (0)
        )
      )
      AND NOT EXISTS(
        SELECT
          1
        FROM ER_ETE_F AS e
        WHERE
          (
            e.FLX_DIS_DTD = p.FLX_DIS_DTD
            AND e.FLX_TRT_DTD = p.FLX_TRT_DTD
            AND e.FLX_EMT_TYP = p.FLX_EMT_TYP
            AND e.FLX_EMT_NUM = p.FLX_EMT_NUM
            AND e.FLX_EMT_ORD = p.FLX_EMT_ORD
            AND e.ORG_CLE_NUM = p.ORG_CLE_NUM
            AND e.DCT_ORD_NUM = p.DCT_ORD_NUM
            AND e.PRS_ORD_NUM = p.PRS_ORD_NUM
            AND e.REM_TYP_AFF = p.REM_TYP_AFF
          )
          AND e.ETE_IND_TAA = 1
      )
    GROUP BY
      m.person_id,
      CAST(p.EXE_SOI_DTD AS DATE),
      d.PHA_PRS_C13
    HAVING
      SUM(d.PHA_ACT_QSN) > 0
  ) AS s
),
-- entry_events: every entry event, all sources
entry_events AS (
  SELECT
    *
  FROM events_1
),
-- with_entry_event: persons with an entry event in the period
with_entry_event AS (
  SELECT
    e.person_id,
    MIN(e.event_date) AS first_date
  FROM entry_events AS e
  JOIN persons AS p
    ON p.person_id = e.person_id
  WHERE
    e.event_date BETWEEN CAST('2019-01-01' AS DATE) AND CAST('2020-12-31' AS DATE)
  GROUP BY
    e.person_id
),
-- entry_days: entry events per day
entry_days AS (
  SELECT
    *,
    LEAD(event_date, 2) OVER (PARTITION BY person_id ORDER BY event_date NULLS LAST) AS nth_date
  FROM (
    SELECT
      person_id,
      event_date,
      MIN(code) AS code,
      MIN(source) AS source
    FROM entry_events
    GROUP BY
      person_id,
      event_date
  ) AS d
),
-- entry: index date = first qualifying event (≥ 3 events on distinct dates within 365 days)
entry AS (
  SELECT
    person_id,
    event_date AS index_date,
    code AS entry_code,
    source AS entry_source
  FROM (
    SELECT
      *,
      ROW_NUMBER() OVER (PARTITION BY person_id ORDER BY event_date ASC NULLS LAST, code NULLS LAST) AS rank
    FROM (
      SELECT
        person_id,
        event_date,
        code,
        source
      FROM entry_days
      WHERE
        (
          NOT nth_date IS NULL AND DATEDIFF(DAY, event_date, nth_date) <= 365
        )
        AND event_date BETWEEN CAST('2019-01-01' AS DATE) AND CAST('2020-12-31' AS DATE)
    ) AS q
  ) AS r
  WHERE
    rank = 1
),
-- washout: no entry event in the 365 days before index
washout AS (
  SELECT
    i.*
  FROM entry AS i
  WHERE
    NOT EXISTS(
      SELECT
        1
      FROM entry_events AS w
      WHERE
        w.person_id = i.person_id
        AND w.event_date BETWEEN CAST(DATE_ADD(i.index_date, -365) AS DATE) AND CAST(DATE_ADD(i.index_date, -1) AS DATE)
    )
),
-- include_1: inclusion: adult (age at index = index year − birth year)
include_1 AS (
  SELECT
    i.*
  FROM washout AS i
  JOIN persons AS p
    ON p.person_id = i.person_id
  WHERE
    (
      YEAR(i.index_date) - p.birth_year
    ) >= 18
),
-- pmsi_person: PMSI linkage: NIR_ANO_17 → person (twins sharing a pseudonym cannot be told apart)
pmsi_person AS (
  SELECT
    BEN_NIR_PSA,
    MIN(person_id) AS person_id
  FROM pseudonyms
  GROUP BY
    BEN_NIR_PSA
),
-- events_2: hospital_diagnosis in code list diag
events_2 AS (
  SELECT
    person_id,
    event_date,
    code,
    'hospital_diagnosis' AS source
  FROM (
    SELECT
      m.person_id,
      CAST(c.EXE_SOI_DTD AS DATE) AS event_date,
      x.code,
      x.role
    FROM (
      SELECT
        *
      FROM (
        SELECT
          t.ETA_NUM AS ETA_NUM,
          t.RSA_NUM AS RSA_NUM,
          t.DGN_PAL AS code,
          'DP' AS role
        FROM T_MCO18B AS t
        WHERE
          t.DGN_PAL IN ('E11', 'E119')
        UNION ALL
        SELECT
          t.ETA_NUM AS ETA_NUM,
          t.RSA_NUM AS RSA_NUM,
          t.ASS_DGN AS code,
          'DAS' AS role
        FROM T_MCO18D AS t
        JOIN T_MCO18B AS b
          ON t.ETA_NUM = b.ETA_NUM AND t.RSA_NUM = b.RSA_NUM
        WHERE
          t.ASS_DGN IN ('E11', 'E119')
          AND (
            b.DGN_PAL IS NULL OR b.DGN_PAL <> t.ASS_DGN
          )
        UNION ALL
        SELECT
          t.ETA_NUM AS ETA_NUM,
          t.RSA_NUM AS RSA_NUM,
          t.DGN_PAL AS code,
          'DAS' AS role
        FROM T_MCO18UM AS t
        JOIN T_MCO18B AS b
          ON t.ETA_NUM = b.ETA_NUM AND t.RSA_NUM = b.RSA_NUM
        WHERE
          t.DGN_PAL IN ('E11', 'E119')
          AND (
            b.DGN_PAL IS NULL OR b.DGN_PAL <> t.DGN_PAL
          )
        UNION ALL
        SELECT
          t.ETA_NUM AS ETA_NUM,
          t.RSA_NUM AS RSA_NUM,
          t.DGN_REL AS code,
          'DAS' AS role
        FROM T_MCO18UM AS t
        JOIN T_MCO18B AS b
          ON t.ETA_NUM = b.ETA_NUM AND t.RSA_NUM = b.RSA_NUM
        WHERE
          t.DGN_REL IN ('E11', 'E119')
          AND (
            b.DGN_PAL IS NULL OR b.DGN_PAL <> t.DGN_REL
          )
      ) AS u
    ) AS x
    JOIN T_MCO18B AS s
      ON x.ETA_NUM = s.ETA_NUM AND x.RSA_NUM = s.RSA_NUM
    JOIN T_MCO18C AS c
      ON s.ETA_NUM = c.ETA_NUM AND s.RSA_NUM = c.RSA_NUM
    JOIN pmsi_person AS m
      ON m.BEN_NIR_PSA = c.NIR_ANO_17
    WHERE
      (
        NOT s.ETA_NUM IN (
          '130780521',
          '130783236',
          '130783293',
          '130784234',
          '130804297',
          '600100101',
          '690783154',
          '690784137',
          '690784152',
          '690784178',
          '690787478',
          '750041543',
          '750100018',
          '750100042',
          '750100075',
          '750100083',
          '750100091',
          '750100109',
          '750100125',
          '750100166',
          '750100208',
          '750100216',
          '750100232',
          '750100273',
          '750100299',
          '750801441',
          '750803447',
          '750803454',
          '830100558',
          '910100015',
          '910100023',
          '920100013',
          '920100021',
          '920100039',
          '920100047',
          '920100054',
          '920100062',
          '930100011',
          '930100037',
          '930100045',
          '940100027',
          '940100035',
          '940100043',
          '940100050',
          '940100068',
          '950100016'
        )
        AND (
          s.GRG_GHM IS NULL OR NOT STARTSWITH(s.GRG_GHM, '90')
        )
        AND (
          s.SEJ_TYP IS NULL OR s.SEJ_TYP <> 'B'
        )
        AND NOT c.NIR_ANO_17 IN ('xxxxxxxxxxxxxxxxx', 'XXXXXXXXXXXXXXXXD', 'XXXXXXXXXXXXXXXXS')
        AND COALESCE(c.NIR_RET, '0') = '0'
        AND COALESCE(c.NAI_RET, '0') = '0'
        AND COALESCE(c.SEX_RET, '0') = '0'
        AND COALESCE(c.SEJ_RET, '0') = '0'
        AND COALESCE(c.FHO_RET, '0') = '0'
        AND COALESCE(c.PMS_RET, '0') = '0'
        AND COALESCE(c.DAT_RET, '0') = '0'
      )
      AND CAST(c.EXE_SOI_DTD AS DATE) BETWEEN CAST('2009-01-03' AS DATE) AND CAST('2021-12-31' AS DATE)
  ) AS s
  UNION ALL
  SELECT
    person_id,
    event_date,
    code,
    'hospital_diagnosis' AS source
  FROM (
    SELECT
      m.person_id,
      CAST(c.EXE_SOI_DTD AS DATE) AS event_date,
      x.code,
      x.role
    FROM (
      SELECT
        *
      FROM (
        SELECT
          t.ETA_NUM AS ETA_NUM,
          t.RSA_NUM AS RSA_NUM,
          t.DGN_PAL AS code,
          'DP' AS role
        FROM T_MCO19B AS t
        WHERE
          t.DGN_PAL IN ('E11', 'E119')
        UNION ALL
        SELECT
          t.ETA_NUM AS ETA_NUM,
          t.RSA_NUM AS RSA_NUM,
          t.ASS_DGN AS code,
          'DAS' AS role
        FROM T_MCO19D AS t
        JOIN T_MCO19B AS b
          ON t.ETA_NUM = b.ETA_NUM AND t.RSA_NUM = b.RSA_NUM
        WHERE
          t.ASS_DGN IN ('E11', 'E119')
          AND (
            b.DGN_PAL IS NULL OR b.DGN_PAL <> t.ASS_DGN
          )
        UNION ALL
        SELECT
          t.ETA_NUM AS ETA_NUM,
          t.RSA_NUM AS RSA_NUM,
          t.DGN_PAL AS code,
          'DAS' AS role
        FROM T_MCO19UM AS t
        JOIN T_MCO19B AS b
          ON t.ETA_NUM = b.ETA_NUM AND t.RSA_NUM = b.RSA_NUM
        WHERE
          t.DGN_PAL IN ('E11', 'E119')
          AND (
            b.DGN_PAL IS NULL OR b.DGN_PAL <> t.DGN_PAL
          )
        UNION ALL
        SELECT
          t.ETA_NUM AS ETA_NUM,
          t.RSA_NUM AS RSA_NUM,
          t.DGN_REL AS code,
          'DAS' AS role
        FROM T_MCO19UM AS t
        JOIN T_MCO19B AS b
          ON t.ETA_NUM = b.ETA_NUM AND t.RSA_NUM = b.RSA_NUM
        WHERE
          t.DGN_REL IN ('E11', 'E119')
          AND (
            b.DGN_PAL IS NULL OR b.DGN_PAL <> t.DGN_REL
          )
      ) AS u
    ) AS x
    JOIN T_MCO19B AS s
      ON x.ETA_NUM = s.ETA_NUM AND x.RSA_NUM = s.RSA_NUM
    JOIN T_MCO19C AS c
      ON s.ETA_NUM = c.ETA_NUM AND s.RSA_NUM = c.RSA_NUM
    JOIN pmsi_person AS m
      ON m.BEN_NIR_PSA = c.NIR_ANO_17
    WHERE
      (
        NOT s.ETA_NUM IN (
          '130780521',
          '130783236',
          '130783293',
          '130784234',
          '130804297',
          '600100101',
          '690783154',
          '690784137',
          '690784152',
          '690784178',
          '690787478',
          '750041543',
          '750100018',
          '750100042',
          '750100075',
          '750100083',
          '750100091',
          '750100109',
          '750100125',
          '750100166',
          '750100208',
          '750100216',
          '750100232',
          '750100273',
          '750100299',
          '750801441',
          '750803447',
          '750803454',
          '830100558',
          '910100015',
          '910100023',
          '920100013',
          '920100021',
          '920100039',
          '920100047',
          '920100054',
          '920100062',
          '930100011',
          '930100037',
          '930100045',
          '940100027',
          '940100035',
          '940100043',
          '940100050',
          '940100068',
          '950100016'
        )
        AND (
          s.GRG_GHM IS NULL OR NOT STARTSWITH(s.GRG_GHM, '90')
        )
        AND (
          s.SEJ_TYP IS NULL OR s.SEJ_TYP <> 'B'
        )
        AND NOT c.NIR_ANO_17 IN ('xxxxxxxxxxxxxxxxx', 'XXXXXXXXXXXXXXXXD', 'XXXXXXXXXXXXXXXXS')
        AND COALESCE(c.NIR_RET, '0') = '0'
        AND COALESCE(c.NAI_RET, '0') = '0'
        AND COALESCE(c.SEX_RET, '0') = '0'
        AND COALESCE(c.SEJ_RET, '0') = '0'
        AND COALESCE(c.FHO_RET, '0') = '0'
        AND COALESCE(c.PMS_RET, '0') = '0'
        AND COALESCE(c.DAT_RET, '0') = '0'
      )
      AND CAST(c.EXE_SOI_DTD AS DATE) BETWEEN CAST('2009-01-03' AS DATE) AND CAST('2021-12-31' AS DATE)
  ) AS s
  UNION ALL
  SELECT
    person_id,
    event_date,
    code,
    'hospital_diagnosis' AS source
  FROM (
    SELECT
      m.person_id,
      CAST(c.EXE_SOI_DTD AS DATE) AS event_date,
      x.code,
      x.role
    FROM (
      SELECT
        *
      FROM (
        SELECT
          t.ETA_NUM AS ETA_NUM,
          t.RSA_NUM AS RSA_NUM,
          t.DGN_PAL AS code,
          'DP' AS role
        FROM T_MCO20B AS t
        WHERE
          t.DGN_PAL IN ('E11', 'E119')
        UNION ALL
        SELECT
          t.ETA_NUM AS ETA_NUM,
          t.RSA_NUM AS RSA_NUM,
          t.ASS_DGN AS code,
          'DAS' AS role
        FROM T_MCO20D AS t
        JOIN T_MCO20B AS b
          ON t.ETA_NUM = b.ETA_NUM AND t.RSA_NUM = b.RSA_NUM
        WHERE
          t.ASS_DGN IN ('E11', 'E119')
          AND (
            b.DGN_PAL IS NULL OR b.DGN_PAL <> t.ASS_DGN
          )
        UNION ALL
        SELECT
          t.ETA_NUM AS ETA_NUM,
          t.RSA_NUM AS RSA_NUM,
          t.DGN_PAL AS code,
          'DAS' AS role
        FROM T_MCO20UM AS t
        JOIN T_MCO20B AS b
          ON t.ETA_NUM = b.ETA_NUM AND t.RSA_NUM = b.RSA_NUM
        WHERE
          t.DGN_PAL IN ('E11', 'E119')
          AND (
            b.DGN_PAL IS NULL OR b.DGN_PAL <> t.DGN_PAL
          )
        UNION ALL
        SELECT
          t.ETA_NUM AS ETA_NUM,
          t.RSA_NUM AS RSA_NUM,
          t.DGN_REL AS code,
          'DAS' AS role
        FROM T_MCO20UM AS t
        JOIN T_MCO20B AS b
          ON t.ETA_NUM = b.ETA_NUM AND t.RSA_NUM = b.RSA_NUM
        WHERE
          t.DGN_REL IN ('E11', 'E119')
          AND (
            b.DGN_PAL IS NULL OR b.DGN_PAL <> t.DGN_REL
          )
      ) AS u
    ) AS x
    JOIN T_MCO20B AS s
      ON x.ETA_NUM = s.ETA_NUM AND x.RSA_NUM = s.RSA_NUM
    JOIN T_MCO20C AS c
      ON s.ETA_NUM = c.ETA_NUM AND s.RSA_NUM = c.RSA_NUM
    JOIN pmsi_person AS m
      ON m.BEN_NIR_PSA = c.NIR_ANO_17
    WHERE
      (
        NOT s.ETA_NUM IN (
          '130780521',
          '130783236',
          '130783293',
          '130784234',
          '130804297',
          '600100101',
          '690783154',
          '690784137',
          '690784152',
          '690784178',
          '690787478',
          '750041543',
          '750100018',
          '750100042',
          '750100075',
          '750100083',
          '750100091',
          '750100109',
          '750100125',
          '750100166',
          '750100208',
          '750100216',
          '750100232',
          '750100273',
          '750100299',
          '750801441',
          '750803447',
          '750803454',
          '830100558',
          '910100015',
          '910100023',
          '920100013',
          '920100021',
          '920100039',
          '920100047',
          '920100054',
          '920100062',
          '930100011',
          '930100037',
          '930100045',
          '940100027',
          '940100035',
          '940100043',
          '940100050',
          '940100068',
          '950100016'
        )
        AND (
          s.GRG_GHM IS NULL OR NOT STARTSWITH(s.GRG_GHM, '90')
        )
        AND (
          s.SEJ_TYP IS NULL OR s.SEJ_TYP <> 'B'
        )
        AND NOT c.NIR_ANO_17 IN ('xxxxxxxxxxxxxxxxx', 'XXXXXXXXXXXXXXXXD', 'XXXXXXXXXXXXXXXXS')
        AND COALESCE(c.NIR_RET, '0') = '0'
        AND COALESCE(c.NAI_RET, '0') = '0'
        AND COALESCE(c.SEX_RET, '0') = '0'
        AND COALESCE(c.SEJ_RET, '0') = '0'
        AND COALESCE(c.FHO_RET, '0') = '0'
        AND COALESCE(c.PMS_RET, '0') = '0'
        AND COALESCE(c.DAT_RET, '0') = '0'
      )
      AND CAST(c.EXE_SOI_DTD AS DATE) BETWEEN CAST('2009-01-03' AS DATE) AND CAST('2021-12-31' AS DATE)
  ) AS s
),
-- include_2_events: events of inclusion: diabetes in hospital
include_2_events AS (
  SELECT
    person_id,
    event_date
  FROM events_2
),
-- include_2: inclusion: diabetes in hospital: at least 1 events in days [-365, 0] around index
include_2 AS (
  SELECT
    i.*
  FROM include_1 AS i
  JOIN (
    SELECT
      i.person_id,
      i.index_date,
      COUNT(DISTINCT e.event_date) AS n
    FROM include_1 AS i
    LEFT JOIN include_2_events AS e
      ON e.person_id = i.person_id
      AND e.event_date BETWEEN CAST(DATE_ADD(i.index_date, -365) AS DATE) AND CAST(DATE_ADD(i.index_date, 0) AS DATE)
    GROUP BY
      i.person_id,
      i.index_date
  ) AS c
    ON c.person_id = i.person_id AND c.index_date = i.index_date
  WHERE
    c.n >= 1
),
-- events_3: long_term_condition in code list t1
events_3 AS (
  SELECT
    person_id,
    event_date,
    code,
    'long_term_condition' AS source
  FROM (
    SELECT
      m.person_id,
      CAST(t.IMB_ALD_DTD AS DATE) AS event_date,
      t.MED_MTF_COD AS code,
      'ALD' AS role
    FROM IR_IMB_R AS t
    JOIN nir_person AS m
      ON m.BEN_NIR_PSA = t.BEN_NIR_PSA AND m.BEN_RNG_GEM = t.BEN_RNG_GEM
    WHERE
      (
        t.MED_MTF_COD IN ('E10')
        AND (
          t.IMB_ETM_NAT IS NULL OR NOT t.IMB_ETM_NAT IN (11, 12, 13)
        )
      )
      AND CAST(t.IMB_ALD_DTD AS DATE) BETWEEN CAST('2009-01-03' AS DATE) AND CAST('2021-12-31' AS DATE)
  ) AS s
),
-- exclude_1_events: events of exclusion: type 1
exclude_1_events AS (
  SELECT
    person_id,
    event_date
  FROM events_3
),
-- exclude_1: exclusion: type 1: at least 1 events in days [-3650, 0] around index
exclude_1 AS (
  SELECT
    i.*
  FROM include_2 AS i
  JOIN (
    SELECT
      i.person_id,
      i.index_date,
      COUNT(DISTINCT e.event_date) AS n
    FROM include_2 AS i
    LEFT JOIN exclude_1_events AS e
      ON e.person_id = i.person_id
      AND e.event_date BETWEEN CAST(DATE_ADD(i.index_date, -3650) AS DATE) AND CAST(DATE_ADD(i.index_date, 0) AS DATE)
    GROUP BY
      i.person_id,
      i.index_date
  ) AS c
    ON c.person_id = i.person_id AND c.index_date = i.index_date
  WHERE
    NOT c.n >= 1
),
-- exposure: end of the first exposure episode after index (30 days per dispensing, gap ≤ 60 days)
exposure AS (
  SELECT
    person_id,
    index_date,
    CAST(DATE_ADD(MIN(event_date), 30) AS DATE) AS exposure_end
  FROM (
    SELECT
      i.person_id,
      i.index_date,
      d.event_date,
      LEAD(d.event_date) OVER (PARTITION BY i.person_id, i.index_date ORDER BY d.event_date NULLS LAST) AS next_date
    FROM exclude_1 AS i
    JOIN (
      SELECT
        person_id,
        event_date
      FROM events_1
    ) AS d
      ON d.person_id = i.person_id AND d.event_date >= i.index_date
  ) AS a
  WHERE
    next_date IS NULL OR DATEDIFF(DAY, event_date, next_date) > 90
  GROUP BY
    person_id,
    index_date
),
-- cohort: exit at end_of_exposure (death always ends follow-up)
cohort AS (
  SELECT
    i.person_id,
    i.index_date,
    i.entry_code,
    i.entry_source,
    p.sex,
    p.birth_year,
    LEAST(
      CAST('2020-12-31' AS DATE),
      COALESCE(p.death_date, CAST('2020-12-31' AS DATE)),
      COALESCE(x.exposure_end, CAST('2020-12-31' AS DATE))
    ) AS exit_date,
    CASE
      WHEN NOT p.death_date IS NULL
      AND p.death_date <= LEAST(
        CAST('2020-12-31' AS DATE),
        COALESCE(p.death_date, CAST('2020-12-31' AS DATE)),
        COALESCE(x.exposure_end, CAST('2020-12-31' AS DATE))
      )
      THEN 'death'
      WHEN COALESCE(x.exposure_end, CAST('2020-12-31' AS DATE)) < CAST('2020-12-31' AS DATE)
      THEN 'end_of_exposure'
      ELSE 'end_of_study'
    END AS exit_reason,
    YEAR(i.index_date) - p.birth_year AS age_at_index
  FROM exclude_1 AS i
  JOIN persons AS p
    ON p.person_id = i.person_id
  LEFT JOIN exposure AS x
    ON x.person_id = i.person_id AND x.index_date = i.index_date
  WHERE
    i.index_date <= LEAST(
      CAST('2020-12-31' AS DATE),
      COALESCE(p.death_date, CAST('2020-12-31' AS DATE)),
      COALESCE(x.exposure_end, CAST('2020-12-31' AS DATE))
    )
)
SELECT * FROM cohort
