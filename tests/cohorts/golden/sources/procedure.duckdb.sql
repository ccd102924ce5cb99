-- procedure in code list list
SELECT
  person_id,
  event_date,
  code,
  'procedure' AS source
FROM (
  SELECT
    m.person_id,
    CAST(p.EXE_SOI_DTD AS DATE) AS event_date,
    d.CAM_PRS_IDE AS code,
    SUM(p.PRS_ACT_QTE) AS quantity,
    COUNT(*) AS records
  FROM ER_CAM_F AS d
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
              d.CAM_PRS_IDE IN ('AAFA001')
              AND p.FLX_DIS_DTD BETWEEN CAST('2019-01-01' AS DATE) AND CAST('2020-06-30' AS DATE)
            )
            AND CAST(p.EXE_SOI_DTD AS DATE) BETWEEN CAST('2019-01-01' AS DATE) AND CAST('2019-12-31' AS DATE)
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
    d.CAM_PRS_IDE
  HAVING
    SUM(p.PRS_ACT_QTE) > 0
) AS s
UNION ALL
SELECT
  person_id,
  event_date,
  code,
  'procedure' AS source
FROM (
  SELECT
    m.person_id,
    CAST(c.EXE_SOI_DTD AS DATE) AS event_date,
    x.code,
    x.role
  FROM (
    SELECT
      t.ETA_NUM AS ETA_NUM,
      t.RSA_NUM AS RSA_NUM,
      t.CDC_ACT AS code,
      'ACT' AS role
    FROM T_MCO19A AS t
    WHERE
      t.CDC_ACT IN ('AAFA001')
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
  'procedure' AS source
FROM (
  SELECT
    m.person_id,
    CAST(c.EXE_SOI_DTD AS DATE) AS event_date,
    x.code,
    x.role
  FROM (
    SELECT
      t.ETA_NUM AS ETA_NUM,
      t.RSA_NUM AS RSA_NUM,
      t.CDC_ACT AS code,
      'ACT' AS role
    FROM T_MCO20A AS t
    WHERE
      t.CDC_ACT IN ('AAFA001')
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
