-- hospital_diagnosis in code list list
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
        t.DGN_PAL IN ('E11')
      UNION ALL
      SELECT
        t.ETA_NUM AS ETA_NUM,
        t.RSA_NUM AS RSA_NUM,
        t.DGN_REL AS code,
        'DR' AS role
      FROM T_MCO19B AS t
      WHERE
        t.DGN_REL IN ('E11')
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
        t.ASS_DGN IN ('E11') AND (
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
        t.DGN_PAL IN ('E11') AND (
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
        t.DGN_REL IN ('E11') AND (
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
        s.GRG_GHM IS NULL OR NOT STARTS_WITH(s.GRG_GHM, '90')
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
    AND CAST(c.EXE_SOI_DTD AS DATE) BETWEEN CAST('2019-01-01' AS DATE) AND CAST('2019-12-31' AS DATE)
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
        t.DGN_PAL IN ('E11')
      UNION ALL
      SELECT
        t.ETA_NUM AS ETA_NUM,
        t.RSA_NUM AS RSA_NUM,
        t.DGN_REL AS code,
        'DR' AS role
      FROM T_MCO20B AS t
      WHERE
        t.DGN_REL IN ('E11')
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
        t.ASS_DGN IN ('E11') AND (
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
        t.DGN_PAL IN ('E11') AND (
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
        t.DGN_REL IN ('E11') AND (
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
        s.GRG_GHM IS NULL OR NOT STARTS_WITH(s.GRG_GHM, '90')
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
    AND CAST(c.EXE_SOI_DTD AS DATE) BETWEEN CAST('2019-01-01' AS DATE) AND CAST('2019-12-31' AS DATE)
) AS s
